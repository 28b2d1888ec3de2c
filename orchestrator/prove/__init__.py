"""Prove: the main job. The runner over states, the call made for each expectation, the
principals' credentials, the settle loop, and the engine's predictions beside each verdict."""
