"""The CI scenario matrix: find scenarios, split them into shards, run each in isolation in
worker processes, and aggregate what comes back (JUnit, Markdown, GitHub annotations)."""
