"""Reconcile: observe (read), plan (pure), apply (the only writer), drift; the HOUSE.md data flow."""
