"""Docker host disk usage and safe pruning: `trimdock df` and `trimdock prune`.

`model` holds the frozen snapshot of an engine, `accounting` and `planner` are pure functions
over it, `engine` and `storage` do all the I/O, `apply` executes a plan with re-checks.
"""
