package dev.gtramp.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfHashMap;
import dev.gtramp.kernel.bpf.BpfPercpuArrayMap;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfRingBuf;
import dev.gtramp.kernel.bpf.BpfUpdateFlags;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Programs on trampolines record into maps from two CPUs at once, and user space reads the maps as
 * the bpf() syscall would: a per-CPU array of calls, a hash of return values by function, and a ring
 * buffer of (ip, argument) events.
 */
class ProgramsRecordIntoMapsTest extends SelftestKernel {
    private static final int CALLS = 5_000;

    @ParameterizedTest
    @EnumSource(FtraceStrategy.class)
    void twoCpusRecord(FtraceStrategy strategy) throws Exception {
        Trampolines t = boot(strategy);
        BpfPercpuArrayMap calls = BpfPercpuArrayMap.create(kernel, "calls", 1);
        BpfHashMap rets = BpfHashMap.create(kernel, "rets", 16);
        BpfRingBuf events = BpfRingBuf.create(kernel, "events", 1 << 20);
        KernelFunction test1 = kernel.function("bpf_fentry_test1");
        KernelFunction test2 = kernel.function("bpf_fentry_test2");
        BpfProg fentry = BpfProg.builder(kernel, "count", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> {
            calls.add(c.cpu(), 0, 1);
            long[] a = new long[1];
            c.getFuncArg(0, a);
            events.output(c.cpu(), c.getFuncIp(), a[0]);
            return 0;
        }).load();
        BpfProg fexit = BpfProg.builder(kernel, "rets", BpfAttachType.TRACE_FEXIT_MULTI).body(c -> {
            long[] r = new long[1];
            c.getFuncRet(r);
            if (rets.update(c.getFuncIp(), 0, BpfUpdateFlags.BPF_NOEXIST) < 0) {
                rets.fetchAdd(c.getFuncIp(), r[0]);
            }
            return 0;
        }).load();
        try (BpfTracingMultiLink a = t.attachMulti(fentry, "bpf_fentry_test[12]", null);
             BpfTracingMultiLink b = t.attachMulti(fexit, "bpf_fentry_test[12]", null)) {
            CountDownLatch done = new CountDownLatch(2);
            List<Throwable> errors = new ArrayList<>();
            for (int id = 0; id < 2; id++) {
                int cpuId = id;
                Thread th = new Thread(() -> {
                    try (Cpu cpu = kernel.bindCpu(cpuId)) {
                        for (int i = 0; i < CALLS; i++) {
                            cpu.call(test1, 1);
                            cpu.call(test2, 2, 3);
                        }
                    } catch (Throwable e) {
                        synchronized (errors) {
                            errors.add(e);
                        }
                    } finally {
                        done.countDown();
                    }
                });
                th.start();
            }
            long[] byFunction = new long[2];
            long[] argSums = new long[2];
            while (done.getCount() > 0 || events.availableBytes() > 0) {
                events.consume(rec -> {
                    int which = rec[0] == test1.ip() ? 0 : 1;
                    byFunction[which]++;
                    argSums[which] += rec[1];
                });
            }
            assertEquals(List.of(), errors);
            long[] perCpu = calls.lookupElem(0);
            assertEquals(2L * CALLS, perCpu[0], "cpu 0's calls");
            assertEquals(2L * CALLS, perCpu[1], "cpu 1's calls");
            assertEquals(4L * CALLS, calls.sum(0));
            assertArrayEquals(new long[] {2L * CALLS, 2L * CALLS}, byFunction);
            assertArrayEquals(new long[] {2L * CALLS, 2L * 2 * CALLS}, argSums);
            assertEquals(0, events.dropped());
            // The first fexit run of each function inserted 0; every other added the return value.
            assertEquals(2L * (2L * CALLS - 1), rets.lookupElem(test1.ip()).orElseThrow());
            assertEquals(5L * (2L * CALLS - 1), rets.lookupElem(test2.ip()).orElseThrow());
            assertEquals(new dev.gtramp.kernel.bpf.BpfProgStats(4L * CALLS, 0), fexit.stats());
        }
        FentryFexitSelftestTest.assertNothingAttached(t);
    }
}
