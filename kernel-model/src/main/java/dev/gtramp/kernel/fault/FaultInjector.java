package dev.gtramp.kernel.fault;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.image.Glob;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One kernel's fault points ({@code CONFIG_FAULT_INJECTION}): each named {@link FaultPoint} is a
 * {@code struct fault_attr}, created on first use by the code that may fail (an allocation type,
 * an ftrace update, a text patch) and armed by tests and tools, one point at a time or by a glob
 * over names ({@code "alloc:*"}). A glob arming is a rule that also arms matching points created
 * later, so a test can fail every allocation kind, including kinds nobody has allocated yet.
 *
 * <p>Thread-safe. Looking up an existing point is a lock-free map read; creating a point and
 * arming or disarming by glob take this injector's monitor, so a point created concurrently with
 * a glob arming is armed either way. When several rules match a new point, the latest wins; an
 * arming by glob also overrides earlier armings of the existing points it matches.
 */
public final class FaultInjector {
    /** A glob arming, kept to arm points created later. */
    private record Rule(Glob glob, FaultSpec spec) {
    }

    private final ConcurrentHashMap<String, FaultPoint> points = new ConcurrentHashMap<>();
    /** Oldest first; guarded by this. */
    private final List<Rule> rules = new ArrayList<>();

    /**
     * The point named {@code name}, created (and armed if a glob rule matches it) on first use;
     * the same instance afterwards. Resolve it once and keep it where the call is frequent.
     *
     * @throws KernelException EINVAL for a blank name
     */
    public FaultPoint point(String name) {
        FaultPoint p = points.get(Objects.requireNonNull(name, "name"));
        return p != null ? p : create(name);
    }

    private synchronized FaultPoint create(String name) {
        FaultPoint p = points.get(name);
        if (p != null) {
            return p;
        }
        if (name.isBlank()) {
            throw new KernelException(Errno.EINVAL, "blank fault point name");
        }
        p = new FaultPoint(name);
        for (int i = rules.size() - 1; i >= 0; i--) {
            Rule r = rules.get(i);
            if (r.glob().matches(name)) {
                p.arm(r.spec());
                break;
            }
        }
        points.put(name, p);
        return p;
    }

    /**
     * Arms every point whose name matches {@code glob} ({@code glob_match} syntax: {@code *},
     * {@code ?}, {@code [a-z]}; no whitespace, so match a space with {@code ?}), now and when it
     * is created later. Each point gets its own counters. Arming the same glob again replaces its
     * rule.
     *
     * @return how many existing points were armed
     * @throws KernelException EINVAL for a malformed glob
     */
    public synchronized int arm(String glob, FaultSpec spec) {
        Glob g = Glob.compile(glob);
        Objects.requireNonNull(spec, "spec");
        rules.removeIf(r -> r.glob().pattern().equals(glob));
        rules.add(new Rule(g, spec));
        int armed = 0;
        for (FaultPoint p : points.values()) {
            if (g.matches(p.name())) {
                p.arm(spec);
                armed++;
            }
        }
        return armed;
    }

    /**
     * Drops the rule armed with exactly this glob, if any, and disarms every existing point that
     * matches it. Rules with other globs stay.
     *
     * @return how many existing points matched
     */
    public synchronized int disarm(String glob) {
        Glob g = Glob.compile(glob);
        rules.removeIf(r -> r.glob().pattern().equals(glob));
        int matched = 0;
        for (FaultPoint p : points.values()) {
            if (g.matches(p.name())) {
                p.disarm();
                matched++;
            }
        }
        return matched;
    }

    /** Drops every rule and disarms every point. */
    public synchronized void disarmAll() {
        rules.clear();
        points.values().forEach(FaultPoint::disarm);
    }

    /** Every point created so far, by name, with its counts and arming. */
    public List<FaultPointStats> points() {
        List<FaultPointStats> out = new ArrayList<>(points.size());
        for (FaultPoint p : points.values()) {
            out.add(p.stats());
        }
        out.sort(Comparator.comparing(FaultPointStats::name));
        return out;
    }

    /** The injected failures over every point. */
    public long failures() {
        long n = 0;
        for (FaultPoint p : points.values()) {
            n += p.failures();
        }
        return n;
    }

    @Override
    public synchronized String toString() {
        return "FaultInjector[" + points.size() + " points, " + rules.size() + " glob rules]";
    }
}
