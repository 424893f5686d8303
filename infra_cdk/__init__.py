"""The CDK app: one Stack (`GrabadoraStack`) composing one construct per component.

Every table, queue and bucket is built from `grabadora.resources`, the same definitions the
local emulator provisions, so the cloud and the emulator cannot drift.
"""
