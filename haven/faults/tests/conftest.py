from haven.faults.tests.deployment import deployment_factory, fault_template, pki

__all__ = ["deployment_factory", "fault_template", "pki"]
