/**
 * A small table of SageMaker hosting instance sizes, used to give the container the memory and
 * CPUs it would have. Memory is the instance's memory; SageMaker keeps a little for its agents,
 * so a container that fits only barely here may still fail the ping health check there.
 */
export interface InstanceType {
  name: string;
  vcpus: number;
  memoryGiB: number;
  arch: 'amd64' | 'arm64';
  gpus: number;
}

const table: InstanceType[] = [
  { name: 'ml.t2.medium', vcpus: 2, memoryGiB: 4, arch: 'amd64', gpus: 0 },
  { name: 'ml.t2.large', vcpus: 2, memoryGiB: 8, arch: 'amd64', gpus: 0 },
  { name: 'ml.m5.large', vcpus: 2, memoryGiB: 8, arch: 'amd64', gpus: 0 },
  { name: 'ml.m5.xlarge', vcpus: 4, memoryGiB: 16, arch: 'amd64', gpus: 0 },
  { name: 'ml.m5.2xlarge', vcpus: 8, memoryGiB: 32, arch: 'amd64', gpus: 0 },
  { name: 'ml.c5.large', vcpus: 2, memoryGiB: 4, arch: 'amd64', gpus: 0 },
  { name: 'ml.c5.xlarge', vcpus: 4, memoryGiB: 8, arch: 'amd64', gpus: 0 },
  { name: 'ml.c5.2xlarge', vcpus: 8, memoryGiB: 16, arch: 'amd64', gpus: 0 },
  { name: 'ml.c6g.large', vcpus: 2, memoryGiB: 4, arch: 'arm64', gpus: 0 },
  { name: 'ml.c6g.xlarge', vcpus: 4, memoryGiB: 8, arch: 'arm64', gpus: 0 },
  { name: 'ml.m6g.large', vcpus: 2, memoryGiB: 8, arch: 'arm64', gpus: 0 },
  { name: 'ml.g4dn.xlarge', vcpus: 4, memoryGiB: 16, arch: 'amd64', gpus: 1 },
  { name: 'ml.g5.xlarge', vcpus: 4, memoryGiB: 16, arch: 'amd64', gpus: 1 },
];

export const INSTANCE_TYPES: ReadonlyMap<string, InstanceType> = new Map(table.map((t) => [t.name, t]));

export function instanceType(name: string): InstanceType | undefined {
  return INSTANCE_TYPES.get(name);
}
