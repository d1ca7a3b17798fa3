"""Build hook: copy the top-level rules/ catalog into imds_lint/rules in real wheels.

Editable installs skip the copy; there the package's shim finds rules/ in the
checkout, so edits to a rule take effect without reinstalling.
"""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CatalogHook(BuildHookInterface):
    def initialize(self, version, build_data):
        if version != "editable":
            build_data["force_include"]["rules"] = "imds_lint/rules"
