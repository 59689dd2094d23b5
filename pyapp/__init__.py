"""Handwritten digit recognition that runs unchanged in CPython and in Pyodide.

Data flows one way: RGBA pad pixels -> preprocess (ink, crop, scale, centre) -> model -> text.
Only `pyapp.web` touches the browser.
"""
