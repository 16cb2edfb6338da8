package dev.gtramp.kernel.mm;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.fault.FaultInjector;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One kernel's allocator of {@link KernelObject}s: the slab allocator's accounting
 * ({@code kmem_cache} object counts by type) with KASAN's checks on top. It
 * <ul>
 *   <li>makes objects live and frees them, counting live objects and bytes per type
 *       ({@link #snapshot()}, and {@link MemorySnapshot#leaksSince} for leak checks);</li>
 *   <li>fails an allocation with {@link Errno#ENOMEM} when the type's fault point
 *       {@code "alloc:" + type} fires ({@code failslab}), leaving no accounting behind;</li>
 *   <li>poisons an object on free, and reports a use after free, a double free or an invalid free
 *       as {@code kasan_report()} and {@code kasan_report_invalid_free()} do: a report in the
 *       kernel log (facility {@code "kasan"}) and in {@link #reports()}, then a
 *       {@link KasanException} if {@link AllocatorConfig#panicOnViolation()}.</li>
 * </ul>
 *
 * <p>Thread-safe: any thread may allocate and free. Accounting uses atomics; the lifetime of an
 * object is one CAS'd field in the object, so exactly one of two racing frees wins.
 */
public final class Allocator {
    /** Reports kept in {@link #reports()}; later ones are still logged and counted. */
    public static final int MAX_REPORTS = 1024;

    /** The facility of this allocator's kernel log entries. */
    public static final String LOG_FACILITY = "kasan";

    private final KernelLog log;
    private final FaultInjector faults;
    private final AllocatorConfig config;
    private final ConcurrentHashMap<String, KmemCache> caches = new ConcurrentHashMap<>();
    /** Guarded by itself. */
    private final List<KasanReport> reports = new ArrayList<>();
    private final AtomicLong violations = new AtomicLong();

    public Allocator(KernelLog log, FaultInjector faults, AllocatorConfig config) {
        this.log = Objects.requireNonNull(log, "log");
        this.faults = Objects.requireNonNull(faults, "faults");
        this.config = Objects.requireNonNull(config, "config");
    }

    public AllocatorConfig config() {
        return config;
    }

    /**
     * {@code __GFP_NOFAIL}: allocates {@code obj} without consulting the fault point, for
     * allocations the modelled kernel code cannot fail (or that the model makes where the kernel
     * does not allocate at all, such as replacing a table it edits in place).
     */
    public <T extends KernelObject> T allocNoFail(T obj) {
        KmemCache cache = cache(obj.type());
        if (!obj.makeLive(this)) {
            throw new KernelException(Errno.EINVAL, obj + " allocated again; an object is allocated once");
        }
        cache.allocated(obj.size());
        return obj;
    }

    /**
     * Makes {@code obj} live and accounts for it under its type ({@code kmem_cache_alloc}).
     *
     * @return {@code obj}, for {@code x = allocator.alloc(new X(...))}
     * @throws KernelException ENOMEM naming the type if the fault point {@code "alloc:" + type}
     *                         fires (nothing is accounted and the object stays unallocated, so it
     *                         may be allocated again); EINVAL if the object was allocated before
     */
    public <T extends KernelObject> T alloc(T obj) {
        KmemCache cache = cache(obj.type());
        if (cache.allocPoint.shouldFail()) {
            throw cache.allocPoint.injected(Errno.ENOMEM, "cannot allocate " + obj.type() + " (" + obj.size() + " bytes)");
        }
        if (!obj.makeLive(this)) {
            throw new KernelException(Errno.EINVAL, obj + " allocated again; an object is allocated once");
        }
        cache.allocated(obj.size());
        return obj;
    }

    /**
     * Frees {@code obj} ({@code kmem_cache_free}): poisons it and takes it out of the accounting.
     * The access site of a report is the calling method.
     *
     * @return true if this call freed the object; false if it was a violation that was recorded
     *         without throwing
     * @throws KasanException for a double free, or a free of an object that was never allocated
     *                        or belongs to another kernel, if configured to throw
     */
    public boolean free(KernelObject obj) {
        return free(obj, null);
    }

    /**
     * {@link #free(KernelObject)} naming the free site for reports, e.g. {@code "kfree"}.
     *
     * @param where the site, or null for the calling method
     */
    public boolean free(KernelObject obj, String where) {
        FreeRecord record = null;
        while (true) {
            Object s = obj.state();
            if (s == KernelObject.LIVE) {
                if (obj.owner() != this) {
                    return violation(KasanReport.Kind.INVALID_FREE, obj, where,
                            obj.type() + " object belongs to another kernel", null);
                }
                if (record == null) {
                    record = new FreeRecord(this, Thread.currentThread().getName(),
                            config.recordFreeStacks() ? Stacks.capture() : List.of());
                }
                if (obj.makeFreed(record)) {
                    break;
                }
                // Another thread freed it between the load and the CAS: loop to report the double free.
            } else if (s instanceof FreeRecord r) {
                return violation(KasanReport.Kind.DOUBLE_FREE, obj, where, freedBy(obj, r), r);
            } else {
                return violation(KasanReport.Kind.INVALID_FREE, obj, where,
                        obj.type() + " object was never allocated", null);
            }
        }
        cache(obj.type()).freed(obj.size());
        obj.poison();
        return true;
    }

    /**
     * Reports a free of something that is not an object's start, such as a {@code kfree} of a
     * pointer into the middle of a block ({@code kasan_report_invalid_free}).
     *
     * @param obj    the object the pointer points into
     * @param where  the free site
     * @param detail what was wrong, naming the object
     * @return false, if the report did not throw
     */
    public boolean reportInvalidFree(KernelObject obj, String where, String detail) {
        Object s = obj.state();
        return violation(KasanReport.Kind.INVALID_FREE, obj, where, detail, s instanceof FreeRecord r ? r : null);
    }

    /** Called by a guard that found {@code obj} freed by this allocator. */
    void useAfterFree(KernelObject obj, String where, FreeRecord r) {
        violation(KasanReport.Kind.USE_AFTER_FREE, obj, where, freedBy(obj, r), r);
    }

    private static String freedBy(KernelObject obj, FreeRecord r) {
        return obj.type() + " object freed by thread " + r.thread();
    }

    private boolean violation(KasanReport.Kind kind, KernelObject obj, String where, String detail, FreeRecord free) {
        KasanReport report = new KasanReport(kind, obj.type(), obj.size(), where != null ? where : Stacks.callerSite(),
                detail, Thread.currentThread().getName(), Stacks.capture(),
                free == null ? null : free.thread(), free == null ? List.of() : free.stack());
        violations.incrementAndGet();
        synchronized (reports) {
            if (reports.size() < MAX_REPORTS) {
                reports.add(report);
            }
        }
        log.error(LOG_FACILITY, report.text());
        if (config.panicOnViolation()) {
            throw new KasanException(report);
        }
        return false;
    }

    /** The first {@link #MAX_REPORTS} reports, oldest first. */
    public List<KasanReport> reports() {
        synchronized (reports) {
            return List.copyOf(reports);
        }
    }

    /** Every violation detected, including those past {@link #MAX_REPORTS}. */
    public long violations() {
        return violations.get();
    }

    /** Live objects and bytes by type, now. */
    public MemorySnapshot snapshot() {
        Map<String, MemorySnapshot.TypeUsage> byType = new HashMap<>();
        caches.forEach((type, cache) -> byType.put(type, cache.usage()));
        return new MemorySnapshot(byType);
    }

    private KmemCache cache(String type) {
        KmemCache c = caches.get(type);
        return c != null ? c : caches.computeIfAbsent(type, t -> new KmemCache(t, faults.point("alloc:" + t)));
    }

    @Override
    public String toString() {
        return "Allocator[" + snapshot() + ", " + violations.get() + " violations]";
    }
}
