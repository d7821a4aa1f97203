"""The project's own errors; protocol and library errors are turned into these at the edge.

HotlineError
├── ConfigurationError      a setting or rendered config is unusable
├── AsteriskError           the PBX could not be installed, started or commanded
├── AgiError                a FastAGI peer broke the protocol
│   └── ChannelHungUp       the caller is gone; the handler must stop talking to them
├── AmiError                the manager interface failed
│   ├── AmiNotConnected     no logged-in connection right now
│   ├── AmiActionFailed     Asterisk answered Response: Error
│   └── AmiTimeout          Asterisk did not answer in time
└── NotFound                a record the caller asked for does not exist

Those that can reach the web API say their HTTP status (`http_status`; see http_kit/errors.py).
"""


class HotlineError(Exception):
    pass


class ConfigurationError(HotlineError):
    pass


class AsteriskError(HotlineError):
    pass


class AgiError(HotlineError):
    pass


class ChannelHungUp(AgiError):
    pass


class AmiError(HotlineError):
    http_status = 503
    http_prefix = "the PBX did not take the change: "


class AmiNotConnected(AmiError):
    pass


class AmiActionFailed(AmiError):
    pass


class AmiTimeout(AmiError):
    pass


class NotFound(HotlineError):
    http_status = 404
