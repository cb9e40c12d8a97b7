import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

/** The pod label that selects a failure mode in the sandbox (kwok Stages below). */
export const CHAOS_LABEL = 'chaos.lifeline.dev/mode';

/**
 * Failure modes a test can put on a workload's pod template with {@link CHAOS_LABEL}:
 * - `crashloop`: the container fails (exit 1) every few seconds and shows CrashLoopBackOff;
 * - `oomkilled`: the same, with `OOMKilled` and exit 137;
 * - `image-pull`: a pending pod never starts (`ImagePullBackOff`);
 * - `not-ready`: running, but readiness fails (Ready False).
 * Nodes are made NotReady with kwok's own label `node-not-ready.stage.kwok.x-k8s.io=true`.
 */
export const CHAOS_MODES = ['crashloop', 'oomkilled', 'image-pull', 'not-ready'] as const;
export type ChaosMode = (typeof CHAOS_MODES)[number];

/** The node label kwok's `node-not-ready` Stage selects. */
export const NODE_NOT_READY_LABEL = 'node-not-ready.stage.kwok.x-k8s.io';

/** kwok's shipped Stage files the sandbox uses (listed by name: the folders also hold kustomizations). */
const SHIPPED_STAGES = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'node/chaos/node-not-ready.yaml',
  'pod/general/pod-create.yaml',
  'pod/general/pod-init-container-running.yaml',
  'pod/general/pod-init-container-completed.yaml',
  'pod/general/pod-ready.yaml',
  'pod/general/pod-complete.yaml',
  'pod/general/pod-delete.yaml',
];

type Stage = {
  metadata: { name: string };
  spec: { selector: { matchExpressions: { key: string; operator: string; values?: string[] }[] } };
};

const labelKey = `.metadata.labels["${CHAOS_LABEL}"]`;

/** The pod conditions block of a status template (Initialized, Ready, ContainersReady). */
function podConditions(ready: boolean): string {
  const status = ready ? '"True"' : '"False", reason: ContainersNotReady';
  return ['Initialized', 'Ready', 'ContainersReady']
    .map((type) => {
      const st = type === 'Initialized' ? '"True"' : status;
      return `      - { lastProbeTime: null, lastTransitionTime: {{ $now | Quote }}, status: ${st}, type: ${type} }\n`;
    })
    .join('');
}

function terminatedThenWaiting(mode: 'crashloop' | 'oomkilled'): string {
  const reason = mode === 'crashloop' ? 'Error' : 'OOMKilled';
  const exitCode = mode === 'crashloop' ? 1 : 137;
  return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: lifeline-${mode}-fail
spec:
  resourceRef: { apiGroup: v1, kind: Pod }
  selector:
    matchExpressions:
    - { key: '${labelKey}', operator: In, values: ['${mode}'] }
    - { key: '.metadata.deletionTimestamp', operator: DoesNotExist }
    - { key: '.status.phase', operator: In, values: ['Running'] }
    - { key: '.status.containerStatuses.[].state.running.startedAt', operator: Exists }
  weight: 10000
  delay: { durationMilliseconds: 2000, jitterDurationMilliseconds: 2500 }
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $root := . }}
      conditions:
${podConditions(false)}      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      {{ $origin := index $root.status.containerStatuses $index }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        started: false
        restartCount: {{ add (or $origin.restartCount 0) 1 }}
        lastState:
          terminated: { exitCode: ${exitCode}, reason: ${reason}, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }} }
        state:
          waiting: { reason: CrashLoopBackOff, message: "back-off restarting failed container" }
      {{ end }}
      phase: Running
`;
}

function waitingThenRunning(mode: 'crashloop' | 'oomkilled'): string {
  return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: lifeline-${mode}-restart
spec:
  resourceRef: { apiGroup: v1, kind: Pod }
  selector:
    matchExpressions:
    - { key: '${labelKey}', operator: In, values: ['${mode}'] }
    - { key: '.metadata.deletionTimestamp', operator: DoesNotExist }
    - { key: '.status.containerStatuses.[].state.waiting.reason', operator: In, values: ['CrashLoopBackOff'] }
  weight: 10000
  delay: { durationMilliseconds: 3000, jitterDurationMilliseconds: 3500 }
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $root := . }}
      conditions:
${podConditions(true)}      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      {{ $origin := index $root.status.containerStatuses $index }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: true
        started: true
        restartCount: {{ or $origin.restartCount 0 }}
        lastState: {{ $origin.lastState | toJson }}
        state:
          running: { startedAt: {{ $now | Quote }} }
      {{ end }}
      phase: Running
`;
}

const IMAGE_PULL = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: lifeline-image-pull
spec:
  resourceRef: { apiGroup: v1, kind: Pod }
  selector:
    matchExpressions:
    - { key: '${labelKey}', operator: In, values: ['image-pull'] }
    - { key: '.metadata.deletionTimestamp', operator: DoesNotExist }
    - { key: '.status.phase', operator: In, values: ['Pending'] }
    - { key: '.status.containerStatuses.[].state.waiting.reason', operator: NotIn, values: ['ImagePullBackOff'] }
  weight: 10000
  delay: { durationMilliseconds: 500, jitterDurationMilliseconds: 1000 }
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - { lastProbeTime: null, lastTransitionTime: {{ $now | Quote }}, status: "True", type: PodScheduled }
${podConditions(false)}      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        started: false
        restartCount: 0
        state:
          waiting: { reason: ImagePullBackOff, message: {{ printf "Back-off pulling image %q" $item.image | Quote }} }
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      phase: Pending
`;

const NOT_READY = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: lifeline-not-ready
spec:
  resourceRef: { apiGroup: v1, kind: Pod }
  selector:
    matchExpressions:
    - { key: '${labelKey}', operator: In, values: ['not-ready'] }
    - { key: '.metadata.deletionTimestamp', operator: DoesNotExist }
    - { key: '.status.phase', operator: In, values: ['Running'] }
    - { key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: In, values: ['True'] }
  weight: 10000
  delay: { durationMilliseconds: 500, jitterDurationMilliseconds: 1000 }
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $root := . }}
      conditions:
${podConditions(false)}      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      {{ $origin := index $root.status.containerStatuses $index }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        started: true
        restartCount: {{ or $origin.restartCount 0 }}
        state: {{ $origin.state | toJson }}
      {{ end }}
      phase: Running
`;

/** Builds the multi-document kwok config: kwok's shipped Stages plus Lifeline's failure-injection Stages. */
export async function kwokConfigYaml(stagesRoot: string): Promise<string> {
  const docs: string[] = [];
  for (const rel of SHIPPED_STAGES) {
    const text = await readFile(join(stagesRoot, rel), 'utf8');
    for (const doc of parseAllDocuments(text)) {
      const stage = doc.toJS() as Stage | null;
      if (stage === null) continue;
      if (stage.metadata.name === 'pod-ready') {
        // The built-in pod-ready Stage would also start a pod we keep in ImagePullBackOff.
        stage.spec.selector.matchExpressions.push({
          key: labelKey,
          operator: 'NotIn',
          values: ['image-pull'],
        });
      }
      docs.push(stringify(stage));
    }
  }
  docs.push(
    terminatedThenWaiting('crashloop'),
    waitingThenRunning('crashloop'),
    terminatedThenWaiting('oomkilled'),
    waitingThenRunning('oomkilled'),
    IMAGE_PULL,
    NOT_READY,
  );
  return docs.map((d) => d.trimEnd()).join('\n---\n') + '\n';
}
