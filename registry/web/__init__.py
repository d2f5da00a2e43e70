"""The web adapter: thin controllers grouped by audience. Only this package and registry/app.py
import Litestar."""
