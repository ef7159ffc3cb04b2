"""The workshop's stages in the order the data flows: data -> train -> deploy -> evaluate.

Each module's run(ctx) is one invoke task, given the invocation's context (vgsales.context). They share one code
path for both targets: the target only changes how the context's clients connect (see vgsales.targets).
"""
