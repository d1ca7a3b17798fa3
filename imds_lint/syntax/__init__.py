"""What front-ends and fixers of one language both read: typed states, handles and tree helpers.

A front-end builds a document's state and each request's handle from these
modules; the fixer the engine chooses for the document reads the same types.
Neither imports the other, so a renamed field is a type error, not a silent
"no fix". Modules here import no front-end, fixer or rule.
"""
