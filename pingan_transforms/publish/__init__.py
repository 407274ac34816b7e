"""Publishing: rankings files and (later) the bulletin and its email."""
