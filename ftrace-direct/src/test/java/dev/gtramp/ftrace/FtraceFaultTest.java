package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.fault.FaultPoint;
import dev.gtramp.kernel.fault.FaultSpec;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every fault point on every step of every update: the n-th allocation of an {@code ftrace_hash},
 * and the n-th site verification of a patch, for n = 1, 2, ... until the update runs through. Each
 * failed update must leave records, ops, {@code direct_functions}, sites and live hashes exactly as
 * before it.
 */
class FtraceFaultTest {
    private static final KernelImage IMAGE = KernelImage.synthetic(64, 7);

    record Tramp(String name) implements CallTarget {
        @Override
        public long enter(dev.gtramp.kernel.Frame frame) {
            return frame.callOrigin();
        }
    }

    /** One kernel with its ftrace, a few functions, named ops and targets. */
    static final class Env {
        final Kernel kernel = Kernel.boot(IMAGE, KernelConfig.defaults());
        final Ftrace ftrace = Ftrace.of(kernel);
        final List<KernelFunction> fns = kernel.functions().stream().filter(KernelFunction::isTraceable).limit(6).toList();
        final Map<String, FtraceOps> ops = new LinkedHashMap<>();
        final Tramp a = new Tramp("A");
        final Tramp b = new Tramp("B");

        long ip(int i) {
            return fns.get(i).ip();
        }

        FtraceHash hash(CallTarget t, int... fnIndexes) {
            FtraceHash h = ftrace.allocHash(3);
            for (int i : fnIndexes) {
                h.add(ip(i), t);
            }
            return h;
        }

        FtraceOps single() {
            return ops.computeIfAbsent("single", n -> FtraceOps.staticDirect("direct_ops", null));
        }

        FtraceOps classic(int i) {
            return ops.computeIfAbsent("classic" + i, n -> FtraceOps.direct("tramp" + i, null));
        }

        FtraceOps tracer() {
            return ops.computeIfAbsent("tracer", n -> FtraceOps.callback("tracer", (ip, p, op, r) -> { }, FtraceOps.SAVE_REGS));
        }

        void addSingle(CallTarget t, int... fnIndexes) {
            FtraceHash h = hash(t, fnIndexes);
            try {
                ftrace.updateFtraceDirectAdd(single(), h);
            } finally {
                ftrace.freeHash(h);
            }
        }

        void registerClassic(int i, CallTarget t) {
            FtraceOps o = classic(i);
            ftrace.setFilterIp(o, ip(i), false, false);
            ftrace.registerFtraceDirect(o, t);
        }

        /** Everything a failed update must leave as it was. */
        String state() {
            kernel.rcu().barrier();
            kernel.tasksRcu().barrier();
            StringBuilder sb = new StringBuilder();
            for (DynFtrace r : ftrace.enabledRecords()) {
                sb.append("rec ").append(r).append('\n');
            }
            for (KernelFunction f : fns) {
                sb.append("site ").append(f.site()).append(" direct=").append(ftrace.findRecDirect(f.ip())).append('\n');
            }
            sb.append("ops ").append(ftrace.opsList()).append('\n');
            for (FtraceOps o : ops.values()) {
                // INITIALIZED is set by the first use and never cleared, in the kernel too.
                sb.append(o).append(" flags=").append(Integer.toHexString(o.flags() & ~FtraceOps.INITIALIZED)).append(" filter=")
                        .append(java.util.Arrays.toString(o.filterIps())).append(" direct=").append(o.directCall()).append('\n');
            }
            sb.append("direct count ").append(ftrace.directFunctionCount()).append('\n');
            sb.append("live hashes ").append(kernel.allocator().snapshot().usage("ftrace_hash").liveObjects()).append('\n');
            return sb.toString();
        }
    }

    record Scenario(String name, Consumer<Env> setup, Consumer<Env> update) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() {
        List<Scenario> scenarios = List.of(
                new Scenario("ftrace_set_filter_ip", e -> e.classic(0), e -> e.ftrace.setFilterIp(e.classic(0), e.ip(0), false, false)),
                new Scenario("register_ftrace_direct", e -> e.ftrace.setFilterIp(e.classic(0), e.ip(0), false, false),
                        e -> e.ftrace.registerFtraceDirect(e.classic(0), e.a)),
                new Scenario("register_ftrace_direct beside a tracer", e -> {
                    e.ftrace.setFilterIp(e.tracer(), e.ip(0), false, false);
                    e.ftrace.registerFtraceFunction(e.tracer());
                    e.ftrace.setFilterIp(e.classic(0), e.ip(0), false, false);
                }, e -> e.ftrace.registerFtraceDirect(e.classic(0), e.a)),
                new Scenario("modify_ftrace_direct", e -> e.registerClassic(0, e.a), e -> e.ftrace.modifyFtraceDirect(e.classic(0), e.b)),
                new Scenario("unregister_ftrace_direct", e -> e.registerClassic(0, e.a),
                        e -> e.ftrace.unregisterFtraceDirect(e.classic(0), e.a, false)),
                new Scenario("update_ftrace_direct_add first", Env::single, e -> e.addSingle(e.a, 0, 1, 2)),
                new Scenario("update_ftrace_direct_add again", e -> e.addSingle(e.a, 0), e -> e.addSingle(e.b, 1, 2, 3)),
                new Scenario("update_ftrace_direct_mod", e -> e.addSingle(e.a, 0, 1, 2), e -> {
                    FtraceHash h = e.hash(e.b, 0, 2);
                    try {
                        e.ftrace.updateFtraceDirectMod(e.single(), h, true);
                    } finally {
                        e.ftrace.freeHash(h);
                    }
                }),
                new Scenario("update_ftrace_direct_del some", e -> e.addSingle(e.a, 0, 1, 2), e -> {
                    FtraceHash h = e.hash(e.a, 0, 2);
                    try {
                        e.ftrace.updateFtraceDirectDel(e.single(), h);
                    } finally {
                        e.ftrace.freeHash(h);
                    }
                }),
                new Scenario("update_ftrace_direct_del last", e -> e.addSingle(e.a, 0), e -> {
                    FtraceHash h = e.hash(e.a, 0);
                    try {
                        e.ftrace.updateFtraceDirectDel(e.single(), h);
                    } finally {
                        e.ftrace.freeHash(h);
                    }
                }),
                new Scenario("ftrace_set_filter_ip on a live tracer", e -> {
                    e.ftrace.setFilterIp(e.tracer(), e.ip(0), false, false);
                    e.ftrace.registerFtraceFunction(e.tracer());
                    e.addSingle(e.a, 1);
                }, e -> e.ftrace.setFilterIps(e.tracer(), new long[]{e.ip(1), e.ip(2)}, false, false)),
                new Scenario("unregister_ftrace_function", e -> {
                    e.ftrace.setFilterIp(e.tracer(), e.ip(0), false, false);
                    e.ftrace.registerFtraceFunction(e.tracer());
                }, e -> e.ftrace.unregisterFtraceFunction(e.tracer())));
        List<Arguments> out = new ArrayList<>();
        for (Scenario s : scenarios) {
            out.add(Arguments.of(s, "alloc:ftrace_hash", Errno.ENOMEM));
            out.add(Arguments.of(s, "ftrace:verify_code", Errno.EFAULT));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} / {1}")
    @MethodSource("cases")
    void everyFaultLeavesNoTrace(Scenario scenario, String point, Errno errno) {
        int failures = 0;
        for (int n = 1; n <= 64; n++) {
            Env env = new Env();
            try {
                scenario.setup().accept(env);
                String before = env.state();
                FaultPoint fp = env.kernel.faults().point(point);
                fp.arm(FaultSpec.nth(n));
                try {
                    scenario.update().accept(env);
                } catch (KernelException e) {
                    assertEquals(errno, e.errno(), e.getMessage());
                    fp.disarm();
                    assertEquals(before, env.state(), scenario + ": fault " + point + " #" + n + " (" + e.getMessage() + ") left a trace");
                    failures++;
                    continue;
                }
                fp.disarm();
                if (fp.failures() == 0) {
                    return;
                }
                fail(scenario + ": fault " + point + " #" + n + " fired but the update succeeded");
            } finally {
                env.kernel.close();
            }
        }
        fail(scenario + ": still failing after 64 faults");
    }
}
