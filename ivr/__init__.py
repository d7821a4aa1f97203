"""The hotline service: Asterisk lifecycle, FastAGI IVR, AMI call tracking and the web API."""
