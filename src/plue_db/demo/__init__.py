"""``plue-db demo``: a scripted walk through Plue through the generated query functions only.

It shows the typed layer doing real work: SIWE sign-in with a one-time nonce, a
repository, issues numbered atomically, a landing request with a review, workflow runs
claimed by a runner, LLM usage, then tables read back from the database.

- scenario.py  ``run`` (the steps in order, returning a ``DemoResult``) and ``main``
- script.py    the data the steps play: labels, issues, plan, runs, LLM calls
- steps.py     what every step shares: ``Demo``, ``require``, ``DemoError``
- sign_in.py, forge.py, runs.py, readback.py   the steps themselves
- tables.py    the one plain-text table renderer (``plue-db stats`` uses it too)

Nothing is imported here, so ``plue_db.demo.tables`` loads without the scenario.

May import: the top level (transactions, values, json_shapes, config), servers/ and
schema/ (the demo migrates its database first). Only mcp/ imports it (tables.py).
"""
