"""The lab as an ASGI application: Streamlit's app (app.py) with our routes beside it (ae/web.py:
the served model files, health, the rooms; the teacher's map placed by ae/ui/classmap.py).
`python -m ae.serve` runs it; so do `make run`, the Dockerfile, the tests and the bench.
`streamlit run entry.py` works too."""

import streamlit as st
from starlette.middleware import Middleware
from streamlit import config

from ae import web
from ae.ui import classmap, classroom

routes = web.routes(config.get_option("server.baseUrlPath") or "", classmap=classmap, take_stroke=classroom.take_stroke)
app = st.App("app.py", routes=routes, middleware=[Middleware(web.Isolated)])
