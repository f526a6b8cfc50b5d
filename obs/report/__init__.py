"""`obs report`: one self-contained HTML page of verify, drill and SLO status, with inline SVG charts.

    saved.py    the last verify and drill results, kept as JSON under the state directory (untrusted on read)
    gather.py   what the live stack says: versions, SLOs from the recording rules, the pipeline's counters
    data.py     the page's data model: plain frozen data, nothing to fetch
    svg.py      chart primitives (scales, ticks, axes, legends), charts.py the report's charts
    html.py     the page: data in, text out; every name from the spec or a result is escaped
    page.py     putting it together for the commands, and writing the file atomically
"""
