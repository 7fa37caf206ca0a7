"""The example notebooks, shipped with the package, and what they need to run anywhere.

::

    from codomyrmex_jupyter.examples import copy_to
    copy_to("codomyrmex-examples")      # then open codomyrmex-examples/01_quickstart.ipynb

Each notebook works in a folder of its own, next to it (:func:`work_folder`,
made the working directory with ``%cd``), with its own store there
(``%orchestrate init``), and writes the files it analyses
(:func:`sample_project`), so it runs from any folder and notebooks do not
see each other's runs, resources or projects.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from importlib import resources
from pathlib import Path

__all__ = ["NOTEBOOKS", "copy_to", "notebook_path", "sample_project", "work_folder"]

NOTEBOOKS = (
    "01_quickstart.ipynb",
    "02_seed_api_tour.ipynb",
    "03_resources_and_failures.ipynb",
    "04_reproducible_analysis.ipynb",
    "05_scale_out_with_dask.ipynb",
)


def notebook_path(name: str) -> Path:
    """The installed copy of example notebook ``name`` (read it, do not run it in place)."""
    if name not in NOTEBOOKS:
        raise ValueError(f"no example notebook {name!r}; the examples are: {', '.join(NOTEBOOKS)}")
    return Path(str(resources.files(__name__).joinpath(name)))


def copy_to(folder: str | os.PathLike[str] = ".", *, overwrite: bool = False) -> list[Path]:
    """Copy the example notebooks into ``folder`` (created if needed); returns their paths.

    Raises
    ------
    FileExistsError
        A notebook of that name is already there and ``overwrite`` is false:
        nothing is copied.
    """
    target = Path(folder).expanduser()
    existing = [name for name in NOTEBOOKS if (target / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{target} already has {', '.join(existing)}; copy into another folder or pass overwrite=True"
        )
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in NOTEBOOKS:
        shutil.copyfile(notebook_path(name), target / name)
        copied.append(target / name)
    return copied


def work_folder(name: str) -> Path:
    """The folder a notebook works in: ``./<name>``, created if missing.

    Run again from inside it (the notebook already went there with ``%cd``),
    it is the working directory itself, so re-running the cell is harmless.
    """
    here = Path.cwd()
    if here.name == name:
        return here
    folder = here / name
    folder.mkdir(exist_ok=True)
    return folder


_SOURCES: dict[str, str] = {
    "__init__.py": '"""A small shop: orders, billing, catalog and reports."""\n',
    "catalog/__init__.py": "",
    "catalog/items.py": """
        from dataclasses import dataclass


        @dataclass
        class Item:
            sku: str
            name: str
            price: float


        def find(items, sku):
            for item in items:
                if item.sku == sku:
                    return item
            return None
    """,
    "orders/__init__.py": "",
    "orders/cart.py": """
        class Cart:
            def __init__(self):
                self.lines = {}

            def add(self, sku, quantity=1):
                if quantity <= 0:
                    raise ValueError("quantity must be positive")
                self.lines[sku] = self.lines.get(sku, 0) + quantity

            def remove(self, sku):
                self.lines.pop(sku, None)

            def total(self, prices):
                return sum(prices[sku] * n for sku, n in self.lines.items())
    """,
    "orders/checkout.py": """
        def checkout(cart, prices, coupon=None, member=False):
            total = cart.total(prices)
            if coupon == "HALF":
                total /= 2
            elif coupon == "TEN" and total > 100:
                total -= 10
            elif coupon is not None:
                raise ValueError(f"unknown coupon {coupon}")
            if member:
                total *= 0.95
            if total < 0:
                total = 0
            return round(total, 2)
    """,
    "billing/__init__.py": "",
    "billing/invoice.py": """
        def invoice_lines(order):
            lines = []
            for sku, quantity, price in order:
                if quantity > 10:
                    price *= 0.9
                lines.append((sku, quantity, round(price * quantity, 2)))
            return lines


        def tax(amount, country):
            rates = {"FR": 0.2, "DE": 0.19, "ES": 0.21}
            return round(amount * rates.get(country, 0.0), 2)
    """,
    "billing/refunds.py": """
        def refund(payment, reason):
            if reason not in ("damaged", "late", "wrong item"):
                return 0
            if reason == "late":
                return round(payment * 0.1, 2)
            return payment
    """,
    "reports/__init__.py": "",
    "reports/daily.py": """
        import statistics


        def summary(totals):
            if not totals:
                return {"orders": 0}
            return {
                "orders": len(totals),
                "revenue": round(sum(totals), 2),
                "median": statistics.median(totals),
                "largest": max(totals),
            }
    """,
}


def sample_project(folder: str | os.PathLike[str] = "shop") -> Path:
    """Write a small Python package to analyse (``orders``, ``billing``, ``catalog``, ``reports``).

    The files are rewritten each time with the same content, so an analysis
    of them gives the same numbers on every machine. Returns the folder.
    """
    root = Path(folder)
    for relative, source in _SOURCES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return root
