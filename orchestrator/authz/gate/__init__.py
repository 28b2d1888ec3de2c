"""The gate: the engine and the services adapted to a world (botocore hook, WSGI, caller lookup, transport, propagation)."""
