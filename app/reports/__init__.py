"""Reports: how the service desk is doing, per support function, for the whole desk, per department and per
person. Reads the cases through their models; nothing imports this package."""
