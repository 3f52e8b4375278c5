"""/region/<code>: the overview scoped to one node of the tree (drill-down)."""
import dash

from dashboard.pages.overview import view

dash.register_page(__name__, path_template="/region/<code>", name="region", nav=False)


def layout(code: str | None = None, **query):
    return view(code, query)
