"""Request input that no view should have to distrust: NUL characters and JSON bodies.

A NUL in a form field has no meaning here and PostgreSQL cannot store it, so
a form with one is refused (400) before any view runs. (Query parameters are
not stored; search, for one, reads a NUL as a word break.)
JSON bodies are parsed by :func:`json_body`, which turns invalid, deeply
nested (the parser's stack would overflow) or NUL-holding JSON into the
usual per-field error (422) instead of a 500.
"""

from __future__ import annotations

import json

from flask import Flask, abort, request

from opendesign.manifests.textfiles import shape_problem

from .params import ParameterErrors


def _refuse_nul() -> None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    for name, value in request.form.items(multi=True):
        if "\x00" in name or "\x00" in value:
            abort(400, description=f"the form field {name.replace(chr(0), '')!r} holds a NUL character")


def json_body() -> object:
    """The request's JSON body, checked (see the module docstring).

    :raises ParameterErrors: naming ``body`` and the reason.
    """
    raw = request.get_data(cache=True)
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ParameterErrors({"body": ["the JSON is nested too deeply"]}) from None
    except ValueError as exc:
        raise ParameterErrors({"body": [f"not valid JSON ({exc}); send a JSON object "
                                        "(Content-Type: application/json)"]}) from None
    problem = shape_problem(value)
    if problem:
        raise ParameterErrors({"body": [f"the JSON {problem}"]})
    return value


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul)
