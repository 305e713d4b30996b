"""Market-data providers behind one interface (see base.py); registry.py picks one."""
