"""Accessibility: what a screen reader says about each picture and chart, and colours that
every student can tell apart.

``regions`` says where a map's strength lies (a 3×3 grid of words, the share above half
strength); ``alt_text`` turns the app's pictures (photos, maps, grids, diagrams) into text
alternatives computed from their data; ``chart_text`` does the same for charts (the
Vega-Lite ``description``); ``colour_vision`` simulates colour-vision deficiency (Machado
et al. 2009), CIELAB and CIEDE2000 distances, and WCAG contrast, so that colour maps and
themes are checked by numbers, not by eye. Pure numpy: no Streamlit here.
"""
