"""One module per FastAGI route; the route, the module and its handler share a name."""
