"""A pane's results tabs: one file per view, one line per tab in `registry.TABS`.

Every view is a `ResultsView` (base.py): the pane tells each built view what happens (a run
starts, its events stream in, its result or failure arrives, a live inspection comes back)
through the base class's methods, and a view overrides the ones it cares about.
"""
