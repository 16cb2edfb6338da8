package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.PaddingInsn;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.text.TextPoker;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ftrace on the kernel's text patcher. A CPU calling a function over and over while another thread
 * attaches and detaches a direct trampoline on it a few hundred times: every call returns the
 * body's value or the trampoline's, never a fault, and no object is used after its free. (The
 * jcstress suite proves the same race exhaustively, with a broken patcher it catches.) And ftrace's
 * costs count every poke of the kernel, its own and the padding's.
 */
class TextPokerTest {
    record Tramp() implements CallTarget {
        @Override
        public long enter(dev.gtramp.kernel.Frame frame) {
            return frame.callOrigin() + 100;
        }
    }

    @Test
    void callsRacingPatchesSeeOldOrNew() throws Exception {
        try (Kernel kernel = Kernel.boot(KernelImage.linux618())) {
            Ftrace ftrace = Ftrace.of(kernel);
            KernelFunction f = kernel.function("bpf_fentry_test1");
            FtraceOps ops = FtraceOps.staticDirect("direct_ops", null);
            KernelFunction keep = kernel.function("bpf_fentry_test2");
            FtraceHash keepHash = ftrace.allocHash(1);
            keepHash.add(keep.ip(), new Tramp());
            ftrace.updateFtraceDirectAdd(ops, keepHash);
            FtraceHash h = ftrace.allocHash(1);
            h.add(f.ip(), new Tramp());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong olds = new AtomicLong();
            AtomicLong news = new AtomicLong();
            Thread caller = new Thread(() -> {
                try (Cpu cpu = kernel.bindCpu(1)) {
                    while (!stop.get()) {
                        long r = cpu.call(f, 1);
                        if (r == 2) {
                            olds.incrementAndGet();
                        } else if (r == 102) {
                            news.incrementAndGet();
                        } else {
                            throw new AssertionError("bpf_fentry_test1(1) returned " + r);
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            caller.start();
            for (int i = 0; i < 300 && failure.get() == null; i++) {
                ftrace.updateFtraceDirectAdd(ops, h);
                ftrace.updateFtraceDirectDel(ops, h);
            }
            stop.set(true);
            caller.join();
            if (failure.get() != null) {
                throw new AssertionError("caller failed", failure.get());
            }
            assertNull(f.site().read());
            assertTrue(olds.get() > 0, "calls: " + olds + " old, " + news + " new");
            assertEquals(0, kernel.allocator().violations());
        }
    }

    @Test
    void ftraceCostsCountPaddingPokes() {
        try (Kernel kernel = Kernel.boot(KernelImage.linux618())) {
            Ftrace ftrace = Ftrace.of(kernel);
            FtraceCosts before = ftrace.costs();
            TextPoker.of(kernel).pokePadding(kernel.function("bpf_fentry_test1"), PaddingInsn.movEaxImm32(7));
            FtraceCosts cost = ftrace.costs().minus(before);
            assertEquals(1, cost.get(Cost.TEXT_POKES));
            assertEquals(1, cost.get(Cost.CORE_SYNCS));
            assertEquals(0, cost.get(Cost.POKE_BATCHES), "no text_poke_bp_batch: the padding is not executed");
            assertEquals(0, cost.get(Cost.SITES_PATCHED));
        }
    }
}
