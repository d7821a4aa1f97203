"""Channel variables shared by the dialplan (asterisk_conf/) and the Python side."""

# Set in hotline-inbound; inherited by every channel of the call; rides on AMI events.
CALL_ID = "HOTLINE_CALL_ID"
# Set by the main_menu AGI route; read by hotline-ivr to carry the caller onwards.
ROUTE = "HOTLINE_ROUTE"
IVR_PATH = "HOTLINE_IVR_PATH"
EMERGENCY_NUMBER = "HOTLINE_EMERGENCY_NUMBER"
# A menu key straight to a unit (route "unit"): the number hotline-unit dials.
UNIT_NUMBER = "HOTLINE_UNIT_NUMBER"
# "__" makes Asterisk copy it onto the operator's channel, for the screen pop.
REQUEST_KIND = "__HOTLINE_REQUEST_KIND"
# Set by the callback_request route once a callback is registered.
CALLBACK = "HOTLINE_CALLBACK"
# Where Record() put the caller's voice message (hotline-message).
MESSAGE_FILE = "HOTLINE_MESSAGE"
# A transfer leg's channel (ivr/transfers/): its unique id, chosen by the service, starts
# with this; the call tracker takes such a channel for no citizen's call.
LEG_ID_PREFIX = "leg-"
LEG = "HOTLINE_LEG"
