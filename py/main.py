"""The page's Python, started by site/shell.js: in a PyScript worker when the page is cross-origin
isolated (the page never waits for Python or tf.js), else on the page. See py/app.py."""

import asyncio

from app import App

app = App()
asyncio.ensure_future(app.start())
