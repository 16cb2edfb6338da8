package dev.gtramp.study;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.mm.MemorySnapshot;
import dev.gtramp.study.StudyResult.Memory;
import dev.gtramp.study.StudyResult.Phase;
import dev.gtramp.study.StudyResult.Stats;
import dev.gtramp.trampoline.Trampolines;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One design attaching one empty program kind to {@code n} functions: cycles of load, attach and
 * detach on one kernel booted for the design ({@link Series}). Between
 * phases the kernel is settled (every RCU callback run, every retired image and md freed) outside
 * the timed part, so each phase's counted events include the frees it deferred and are the same in
 * every cycle; the study checks that they are and fails loudly if not.
 */
final class AttachMeasurement {
    /** The counts and times of one measured design, kind and size. */
    record Outcome(int attached, int programs, int links, Phase load, Phase attach, Phase detach, Memory retained) {
    }

    private AttachMeasurement() {
    }

    /**
     * The rows of one design and kind, measured on one kernel in increasing size after one warm-up
     * cycle (which also allocates what stays allocated, the first {@code direct_functions} hash,
     * and so counts differently from every later cycle). Predicts a cycle's time from the sizes
     * before it, so that a study can bound its time.
     *
     * <p>A kernel keeps some of what an attach grew: the padding design's {@code kfunc_md} array
     * doubles when full and never shrinks, as in Dong's series. The first cycle at a size larger
     * than any before may therefore count more than every later one. A row reports the steady
     * state, the cycles after that growth, so its counts do not depend on the sizes run before it:
     * when the first two cycles differ the first is dropped as the priming cycle, and a row of one
     * run at a new size is primed by one unmeasured cycle first.
     */
    static final class Series implements AutoCloseable {
        private final StudyTargets targets;
        private final StudyDesign design;
        private final BpfTrampKind kind;
        private final Kernel kernel;
        private final Settler settler;
        private int lastN;
        private double lastSeconds;
        /** The largest size measured in its steady state: smaller sizes need no priming. */
        private int steadyN;
        private double exponent = 2;

        Series(KernelImage image, StudyTargets targets, StudyDesign design, BpfTrampKind kind, int warmUpN) {
            this.targets = targets;
            this.design = design;
            this.kind = kind;
            this.kernel = Kernel.boot(image, KernelConfig.defaults());
            try {
                this.settler = new Settler(Trampolines.create(kernel, design.config()));
                record(warmUpN, cycle(settler, design, kind, targets.first(kernel, warmUpN, kind)));
            } catch (RuntimeException e) {
                kernel.close();
                throw e;
            }
        }

        /**
         * The predicted seconds of one cycle on {@code n} functions: the last cycle's, scaled by the
         * growth seen between the last two sizes (quadratic until two sizes are known, since the
         * per-link designs update every record and copy every hash entry per link).
         */
        double predictSeconds(int n) {
            return lastSeconds * Math.pow((double) n / lastN, n > lastN ? exponent : 1);
        }

        /**
         * {@code runs} measured cycles on the first {@code n} functions in their steady state; their
         * counted events must agree.
         */
        Outcome measure(int n, int runs) {
            List<KernelFunction> functions = targets.first(kernel, n, kind);
            boolean primed = n <= steadyN;
            if (!primed && runs == 1) {
                record(n, cycle(settler, design, kind, functions));
                primed = true;
            }
            List<Cycle> cycles = new ArrayList<>(runs);
            while (cycles.size() < runs) {
                Cycle c = cycle(settler, design, kind, functions);
                if (!cycles.isEmpty() && !c.sameEvents(cycles.get(0))) {
                    if (!primed && cycles.size() == 1) {
                        // The first cycle grew what the kernel keeps: it was the priming cycle.
                        cycles.clear();
                        primed = true;
                    } else {
                        throw new IllegalStateException(design.name() + " " + Kinds.label(kind) + " on " + n
                                + " functions: the counted events differ between cycles: " + cycles.get(0) + " then " + c);
                    }
                }
                cycles.add(c);
            }
            steadyN = Math.max(steadyN, n);
            Cycle first = cycles.get(0);
            record(n, cycles.stream().min((a, b) -> Double.compare(a.seconds(), b.seconds())).orElseThrow());
            return new Outcome(functions.size(), first.programs, first.links,
                    new Phase(stats(cycles, 0), first.load.asMap()),
                    new Phase(stats(cycles, 1), first.attach.asMap()),
                    new Phase(stats(cycles, 2), first.detach.asMap()),
                    first.retained(functions.size()));
        }

        private void record(int n, Cycle c) {
            double s = c.seconds();
            if (lastN > 0 && n > lastN && lastSeconds > 0.05) {
                // Only a cycle long enough to time says how the design grows.
                exponent = Math.max(1, Math.log(s / lastSeconds) / Math.log((double) n / lastN));
            }
            lastN = n;
            lastSeconds = s;
        }

        @Override
        public void close() {
            kernel.close();
        }
    }

    /** One load, attach and detach, each timed and counted. */
    private record Cycle(int programs, int links, long[] nanos, CountedEvents load, CountedEvents attach,
                         CountedEvents detach, MemorySnapshot before, MemorySnapshot attached) {

        /** The cycle's timed phases, seconds. */
        double seconds() {
            return (nanos[0] + nanos[1] + nanos[2]) / 1e9;
        }

        boolean sameEvents(Cycle o) {
            return load.equals(o.load) && attach.equals(o.attach) && detach.equals(o.detach);
        }

        Memory retained(int functions) {
            Map<String, long[]> byType = new TreeMap<>();
            long bytes = 0;
            long objects = 0;
            for (var e : attached.byType().entrySet()) {
                MemorySnapshot.TypeUsage was = before.usage(e.getKey());
                long o = e.getValue().liveObjects() - was.liveObjects();
                long b = e.getValue().liveBytes() - was.liveBytes();
                if (o != 0 || b != 0) {
                    byType.put(e.getKey(), new long[] {o, b});
                    bytes += b;
                    objects += o;
                }
            }
            return new Memory(bytes, objects, functions == 0 ? 0 : (double) bytes / functions, byType);
        }

        @Override
        public String toString() {
            return "{load " + load + ", attach " + attach + ", detach " + detach + "}";
        }
    }

    private static Cycle cycle(Settler s, StudyDesign design, BpfTrampKind kind, List<KernelFunction> functions) {
        Trampolines t = s.t;
        Kernel k = t.kernel();
        s.settle();
        MemorySnapshot before = k.allocator().snapshot();
        CountedEvents e0 = s.events(0, 0);
        long t0 = System.nanoTime();
        StudyDesign.Loaded loaded = design.load(t, kind, functions);
        long t1 = System.nanoTime();
        s.settle();
        CountedEvents e1 = s.events(loaded.programs(), 0);
        long t2 = System.nanoTime();
        StudyDesign.Attachment attachment = loaded.attach();
        long t3 = System.nanoTime();
        s.settle();
        CountedEvents e2 = s.events(loaded.programs(), attachment.links());
        MemorySnapshot attached = k.allocator().snapshot();
        long t4 = System.nanoTime();
        attachment.close();
        long t5 = System.nanoTime();
        s.settle();
        CountedEvents e3 = s.events(loaded.programs(), attachment.links());
        if (k.allocator().violations() != 0) {
            throw new IllegalStateException(design.name() + ": KASAN reports " + k.allocator().reports());
        }
        return new Cycle(loaded.programs(), attachment.links(), new long[] {t1 - t0, t3 - t2, t5 - t4},
                e1.minus(e0), e2.minus(e1), e3.minus(e2), before, attached);
    }

    /**
     * Settles a kernel between phases: runs every pending callback and waits until every retired
     * image and md is freed, counting its own {@code rcu_barrier} calls, whose callbacks are not
     * the kernel's work.
     */
    private static final class Settler {
        final Trampolines t;
        long rcuBarriers;
        long tasksBarriers;

        Settler(Trampolines t) {
            this.t = t;
        }

        void settle() {
            for (int i = 0; i < 100; i++) {
                for (int j = 0; j < 3; j++) {
                    t.kernel().tasksRcu().barrier();
                    t.kernel().rcu().barrier();
                    tasksBarriers++;
                    rcuBarriers++;
                }
                if (t.imagesRetiring() + t.kfuncMdsRetiring() == 0) {
                    return;
                }
            }
            throw new IllegalStateException("images or kfunc_mds still retiring: " + t.imagesRetiring() + " images, "
                    + t.kfuncMdsRetiring() + " mds");
        }

        /** The kernel's events so far, with the driver's loads and links of this cycle so far. */
        CountedEvents events(int programs, int links) {
            return CountedEvents.of(t, programs, links, rcuBarriers, tasksBarriers);
        }
    }

    private static Stats stats(List<Cycle> cycles, int phase) {
        double[] ms = cycles.stream().mapToDouble(c -> c.nanos[phase] / 1e6).sorted().toArray();
        double median = ms.length % 2 == 1 ? ms[ms.length / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
        return new Stats(median, ms[0], ms[ms.length - 1], ms.length);
    }
}
