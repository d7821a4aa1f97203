"""The composition root: the one place that builds and wires the running hotline
(hotline.py: the service, Asterisk and their parts; web_app.py: the web app's routes)."""

from ivr.main.hotline import Hotline, build_ticket_service, freeze_startup_heap, run
from ivr.main.web_app import WebServices, build_web_app

__all__ = ["Hotline", "WebServices", "build_ticket_service", "build_web_app",
           "freeze_startup_heap", "run"]
