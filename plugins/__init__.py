"""pytest plugins of the conformance suite, split by role (as labgrid splits its plugin).

options      command-line options and their validation
session      probe once, resolve the target, the `system`/`target`/`check` fixtures
markers      gpu_arch / rocm / kernel / requires / level markers
known_issues the known_issue marker: matching failures become xfail with a link
results      one record per test: area, outcome, verdict, measurements
report       JSON + self-contained HTML under reports/, the terminal summary
html         pytest-html hooks (registered only when pytest-html is installed)
hookspecs    hooks other plugins may implement to extend the report

None of them imports torch, transformers or onnxruntime: collection stays cheap.
"""

PLUGINS = (
    "plugins.options",
    "plugins.session",
    "plugins.markers",
    "plugins.known_issues",
    "plugins.results",
    "plugins.report",
)
