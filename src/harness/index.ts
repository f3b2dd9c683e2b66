export { bootImage, BootInterruptedError, BOOT_RULE_IDS, CONTAINER_PREFIX } from './boot.js';
export type { BootOptions, BootReport, BootMetrics, ContainerLatency, BootRuleId } from './boot.js';
export { ContainerEngine, parseStats, parseSize } from './engine.js';
export { INSTANCE_TYPES, instanceType } from './instance-types.js';
export { containerListeningPorts, parsePortRange, parseProcNetTcp, planPorts } from './ports.js';
export type { ListeningPort } from './ports.js';
export { probe } from './probe.js';
export { applyRuleSettings } from './rules.js';
