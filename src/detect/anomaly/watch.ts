import { Counter, Gauge, Registry } from 'prom-client';
import { sleep, systemClock, type Clock } from '../../core/clock.ts';
import { errorMessage, LifelineError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Signal, SignalSink } from '../../signals/signal.ts';
import type { Detector, DetectorFactory, DetectorOptions, DetectorState } from './detector.ts';
import type { ForecastDetectorOptions } from './forecast-detector.ts';
import { queryRange, seriesKey, type RangeSeries } from './prometheus/query-range.ts';
import { RECOMMENDED_DETECTOR, detectorFactory } from './registry.ts';
import type { ModelStateStore } from './state-store.ts';

/** A PromQL expression to follow, under a short name used in metrics, keys and signals. */
export interface WatchQuery {
  readonly name: string;
  readonly query: string;
}

/** Options of {@link AnomalyWatcher}; every optional field states its default. */
export interface WatchOptions {
  /** Prometheus base URL (`http://127.0.0.1:9090`). */
  readonly prometheusUrl: string;
  readonly queries: readonly WatchQuery[];
  /** Query resolution: one record per series every `stepSec` seconds. Default 15. */
  readonly stepSec?: number;
  /** Seconds between polls. Default `stepSec`. */
  readonly intervalSec?: number;
  /** Records newer than `now − lagSec` are left for the next poll (scrape/ingest delay). Default `stepSec`. */
  readonly lagSec?: number;
  /** Records fetched the first time a query is polled (history to warm up on). Default the probation. */
  readonly backfillRecords?: number;
  /** Registered detector name. Default `lifeline`. */
  readonly detector?: string;
  /** Options for every new detector (probation, seed, LSTM shape…). Default probation 750, seed 1. */
  readonly detectorOptions?: DetectorOptions & ForecastDetectorOptions;
  /** Score at which a record is a candidate anomaly. Default the detector's alarm level. */
  readonly level?: number;
  /**
   * Corroboration: a second, independent detector must also reach its alarm level within
   * `corroborationRecords` records of the first, or no signal is emitted. `null` disables it
   * (one detector's word is enough). Default `median-mad`.
   */
  readonly corroborator?: string | null;
  /** Default 5. */
  readonly corroborationRecords?: number;
  /**
   * After a signal, the series emits no other for this many records. The watcher turns the
   * detector's own alarm suppression off (`suppressFor: 0`, `suppressFraction: 0`): an alarm that was not corroborated
   * must not hide the next one. Default 100.
   */
  readonly cooldownRecords?: number;
  readonly store: ModelStateStore;
  readonly sink: SignalSink;
  /** Where `lifeline_anomaly_score` and `lifeline_anomaly_signals_total` are registered. Default a new Registry. */
  readonly registry?: Registry;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** What is persisted per series. */
interface SeriesState {
  detector: DetectorState;
  corroborator: DetectorState | null;
  /** Unix seconds of the last record fed to the models. */
  lastTs: number;
  records: number;
  /** Record numbers of the latest primary and corroborating crossings not yet turned into a signal. */
  primaryAt: number | null;
  secondaryAt: number | null;
  /** No signal before this record number (cool-down after the last signal). */
  quietUntil: number;
}

interface LiveSeries {
  key: string;
  labels: Readonly<Record<string, string>>;
  detector: Detector;
  corroborator: Detector | null;
  state: SeriesState;
}

/** What one poll did. */
export interface PollResult {
  readonly records: number;
  readonly signals: number;
  readonly series: number;
  /** Series whose model was loaded from the store in this poll (resumed after a restart). */
  readonly resumed: number;
}

/**
 * Follows PromQL queries with `query_range`, keeps one model per series (persisted in a
 * {@link ModelStateStore} after every poll, resumed on start), exports
 * `lifeline_anomaly_score{query,series}`, and emits a {@link Signal} when a corroborated score
 * crosses the level.
 */
export class AnomalyWatcher {
  private readonly step: number;
  private readonly interval: number;
  private readonly lag: number;
  private readonly factory: DetectorFactory;
  private readonly secondary: DetectorFactory | null;
  private readonly detectorOptions: DetectorOptions & ForecastDetectorOptions;
  private readonly level: number;
  private readonly within: number;
  private readonly cooldown: number;
  private readonly backfill: number;
  private readonly clock: Clock;
  private readonly live = new Map<string, LiveSeries>();
  private readonly cursors = new Map<string, number>();
  private readonly scoreGauge: Gauge;
  private readonly signalCounter: Counter;
  /** Registry holding the watcher's metrics. */
  readonly registry: Registry;

  constructor(private readonly o: WatchOptions) {
    if (o.queries.length === 0) {
      throw new LifelineError('anomaly.watch', 'no queries to watch', {
        fix: 'pass at least one --query name=<PromQL>',
      });
    }
    this.step = o.stepSec ?? 15;
    this.interval = o.intervalSec ?? this.step;
    this.lag = o.lagSec ?? this.step;
    this.factory = detectorFactory(o.detector ?? RECOMMENDED_DETECTOR);
    const secondary = o.corroborator === undefined ? 'median-mad' : o.corroborator;
    this.secondary = secondary === null ? null : detectorFactory(secondary);
    this.detectorOptions = { ...o.detectorOptions, suppressFor: 0, suppressFraction: 0 };
    this.cooldown = o.cooldownRecords ?? 100;
    this.level = o.level ?? this.factory.alarmLevel;
    this.within = o.corroborationRecords ?? 5;
    this.backfill = o.backfillRecords ?? this.detectorOptions.probation ?? 750;
    this.clock = o.clock ?? systemClock;
    this.registry = o.registry ?? new Registry();
    this.scoreGauge = new Gauge({
      name: 'lifeline_anomaly_score',
      help: 'Latest anomaly score (0..1) of a watched series',
      labelNames: ['query', 'series'] as const,
      registers: [this.registry],
    });
    this.signalCounter = new Counter({
      name: 'lifeline_anomaly_signals_total',
      help: 'Anomaly signals emitted',
      labelNames: ['query'] as const,
      registers: [this.registry],
    });
  }

  /** Polls every query once: fetches new records, scores them, emits signals, saves models. */
  async pollOnce(signal?: AbortSignal): Promise<PollResult> {
    let records = 0;
    let signals = 0;
    let resumed = 0;
    const touched = new Set<LiveSeries>();
    const nowSec = this.clock.now() / 1000;
    const end = Math.floor((nowSec - this.lag) / this.step) * this.step;
    for (const q of this.o.queries) {
      const cursor = await this.cursor(q);
      const start = cursor === undefined ? end - (this.backfill - 1) * this.step : cursor + this.step;
      if (start > end) continue;
      const result: RangeSeries[] = await queryRange({
        baseUrl: this.o.prometheusUrl,
        query: q.query,
        start,
        end,
        stepSec: this.step,
        ...(signal === undefined ? {} : { signal }),
      });
      for (const r of result) {
        const { series, fromStore } = await this.series(q, r.labels);
        if (fromStore) resumed++;
        for (const [ts, value] of r.points) {
          if (ts <= series.state.lastTs) continue;
          records++;
          touched.add(series);
          if (await this.feed(q, series, ts, value)) signals++;
        }
      }
      this.cursors.set(q.name, end);
      await this.o.store.put(`cursor/${q.name}`, { end });
    }
    for (const s of touched) {
      s.state.detector = s.detector.save();
      s.state.corroborator = s.corroborator?.save() ?? null;
      await this.o.store.put(s.key, s.state);
    }
    return { records, signals, series: this.live.size, resumed };
  }

  /** Polls every `intervalSec` until `signal` aborts; a failed poll is logged and retried. */
  async run(signal: AbortSignal): Promise<void> {
    // A function call, so the compiler does not assume `aborted` cannot change between checks.
    const stopped = (): boolean => signal.aborted;
    for (;;) {
      if (stopped()) return;
      try {
        const r = await this.pollOnce(signal);
        this.o.logger?.debug({ ...r }, 'anomaly watch poll');
      } catch (err) {
        if (!signal.aborted)
          this.o.logger?.warn({ err: errorMessage(err) }, 'anomaly watch poll failed; retrying');
      }
      try {
        await sleep(this.interval * 1000, signal);
      } catch {
        break;
      }
    }
  }

  private async cursor(q: WatchQuery): Promise<number | undefined> {
    const known = this.cursors.get(q.name);
    if (known !== undefined) return known;
    const saved = (await this.o.store.get(`cursor/${q.name}`)) as { end?: number } | undefined;
    if (typeof saved?.end === 'number') this.cursors.set(q.name, saved.end);
    return saved?.end;
  }

  private async series(
    q: WatchQuery,
    labels: Readonly<Record<string, string>>,
  ): Promise<{ series: LiveSeries; fromStore: boolean }> {
    const key = `series/${q.name}/${seriesKey(labels)}`;
    const known = this.live.get(key);
    if (known !== undefined) return { series: known, fromStore: false };
    const saved = (await this.o.store.get(key)) as SeriesState | undefined;
    let series: LiveSeries;
    if (saved !== undefined && saved.detector.kind === this.factory.kind) {
      series = {
        key,
        labels,
        detector: this.factory.restore(saved.detector),
        corroborator:
          this.secondary === null || saved.corroborator === null
            ? null
            : this.secondary.restore(saved.corroborator),
        state: saved,
      };
    } else {
      const detector = this.factory.create(this.detectorOptions);
      const corroborator =
        this.secondary?.create({
          ...(this.detectorOptions.probation === undefined
            ? {}
            : { probation: this.detectorOptions.probation }),
        }) ?? null;
      series = {
        key,
        labels,
        detector,
        corroborator,
        state: {
          detector: detector.save(),
          corroborator: corroborator?.save() ?? null,
          lastTs: Number.NEGATIVE_INFINITY,
          records: 0,
          primaryAt: null,
          secondaryAt: null,
          quietUntil: 0,
        },
      };
    }
    this.live.set(key, series);
    return { series, fromStore: saved !== undefined && series.state === saved };
  }

  /** Feeds one record; returns true when it emitted a signal. */
  private async feed(q: WatchQuery, s: LiveSeries, ts: number, value: number): Promise<boolean> {
    const st = s.state;
    const score = s.detector.update(ts * 1000, value);
    const second = s.corroborator?.update(ts * 1000, value) ?? 0;
    st.lastTs = ts;
    st.records++;
    this.scoreGauge.set({ query: q.name, series: seriesKey(s.labels) }, score);
    if (score >= this.level) st.primaryAt = st.records;
    if (s.corroborator !== null && second >= (this.secondary?.alarmLevel ?? 1)) st.secondaryAt = st.records;
    const fresh = (at: number | null): at is number => at !== null && st.records - at < this.within;
    if (st.records < st.quietUntil) return false;
    if (!fresh(st.primaryAt)) return false;
    if (s.corroborator !== null && !fresh(st.secondaryAt)) return false;
    const observedAt = new Date(ts * 1000).toISOString();
    const sig: Signal = {
      source: 'anomaly',
      subject: { series: { ...s.labels } },
      observedAt,
      reason: 'anomaly.score',
      evidence: {
        query: q.name,
        promql: q.query,
        value,
        score,
        level: this.level,
        detector: this.factory.kind,
        ...(s.corroborator === null
          ? {}
          : { corroboratedBy: this.secondary?.kind, corroboratingScore: second }),
      },
      confidence: Math.min(1, Math.max(score, this.level)),
      idempotencyKey: `anomaly:${q.name}:${seriesKey(s.labels)}:${ts}`,
    };
    st.primaryAt = null;
    st.secondaryAt = null;
    st.quietUntil = st.records + this.cooldown;
    this.signalCounter.inc({ query: q.name });
    await this.o.sink(sig);
    return true;
  }
}
