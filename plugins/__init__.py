"""pytest plugins of the conformance suite, split by role (as labgrid splits its plugin).

options      command-line options and their validation
state        the run's shared state in config.stash (options, profile, target)
session      probe once, resolve the target, the `system`/`target`/`check` fixtures
skips        skips reported at the test's own location
markers      gpu_arch / rocm / kernel / requires / level / cpu_side markers
sentences    each check's sentence (its docstring) and cpu_side, known before it runs
known_issues the known_issue marker: matching failures become xfail with a link
results      one record per test: area, outcome, verdict, measurements
report       the JSON report (a record line per test, the whole rewritten at most once a second), the page,
             --baseline, the summary
interrupts   SIGTERM / SIGHUP end the run like Ctrl-C: the report is finished as interrupted
html         pytest-html hooks (registered only when pytest-html is installed)
hookspecs    hooks other plugins may implement to extend the report
isolation    GPU tests in a forked child with a time limit; GPU tests grouped on one xdist worker

None of them imports torch, transformers or onnxruntime: collection stays cheap.
The reading side of reports (page, matrix, diff, schema) is the `reports` package.
"""

PLUGINS = (
    "plugins.options",
    "plugins.sentences",
    "plugins.session",
    "plugins.markers",
    "plugins.known_issues",
    "plugins.results",
    "plugins.interrupts",
    "plugins.report",
    "plugins.isolation",
)
