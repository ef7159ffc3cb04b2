"""`invoke console`: a web console for the workshop's stack, on either target.

It shows what the SageMaker console shows a learner (the stack, training and tuning jobs with their logs and
curves, transform jobs, models, endpoint configurations, endpoints, the bucket), plus the evaluation and a dry run
of the clean-up, in Traditional Chinese or English. It reads through the AWS APIs only, with the invocation's
context (the same clients and credentials every task uses), so what it shows is what any client sees. It changes
nothing of the stack: the endpoint's test form sends InvokeEndpoint requests, and Open JupyterLab asks for a
presigned URL; everything else reads.

- ``reads``: what each page shows, gathered through the APIs;
- ``charts``: line charts as SVG, rendered on the server;
- ``text``: the two languages;
- ``app``: the pages (Flask and Jinja2), behind the token;
- ``server``: serving it on loopback (and ``vgsales.browser`` opens it without the token on a command line).
"""
