"""Analysis of a scenario without AWS: who can do what (`access`, the access matrix) and how
strong its expectations are (`mutate`, mutation testing). Decisions come from the engine, through
the same gate the embedded backend and `serve` use, over the desired state (`offline`)."""
