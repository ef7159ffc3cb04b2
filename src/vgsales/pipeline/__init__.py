"""The workshop's stages in the order the data flows: data -> train -> deploy -> evaluate.

Each module's run(settings) is one invoke task. They share one code path for both targets: the target
only changes the environment the AWS clients read (see vgsales.target).
"""
