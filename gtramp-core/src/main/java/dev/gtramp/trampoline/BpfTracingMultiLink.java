package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfProg;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The upstream {@code tracing_multi} link: one program on the per-function trampolines of many
 * functions, with a cookie per function, attached and detached as one batch
 * ({@code bpf_trampoline_multi_attach/detach}). Closing it twice does nothing; any other use of a
 * closed link is {@code EBADF}.
 */
public final class BpfTracingMultiLink implements AutoCloseable {
    private final Trampolines owner;
    final BpfProg prog;
    final List<BpfTrampoline> trampolines;
    final List<TrampNode> nodes;
    private final AtomicBoolean closed = new AtomicBoolean();

    BpfTracingMultiLink(Trampolines owner, BpfProg prog, List<BpfTrampoline> trampolines, long[] cookies) {
        this.owner = owner;
        this.prog = prog;
        this.trampolines = List.copyOf(trampolines);
        List<TrampNode> n = new ArrayList<>(trampolines.size());
        for (int i = 0; i < trampolines.size(); i++) {
            n.add(new TrampNode(prog, cookies == null ? 0 : cookies[i], this));
        }
        this.nodes = List.copyOf(n);
    }

    public BpfProg prog() {
        checkOpen();
        return prog;
    }

    /** The functions, in the order given (the order of the cookies). */
    public List<String> functions() {
        checkOpen();
        List<String> out = new ArrayList<>(trampolines.size());
        for (BpfTrampoline tr : trampolines) {
            out.add(tr.function.name());
        }
        return out;
    }

    /** The cookies, one per function. */
    public long[] cookies() {
        checkOpen();
        long[] c = new long[nodes.size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = nodes.get(i).cookie;
        }
        return c;
    }

    public int size() {
        return trampolines.size();
    }

    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            MultiAttach.detach(owner, this);
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new KernelException(Errno.EBADF, "tracing multi link of " + prog + " is closed");
        }
    }

    @Override
    public String toString() {
        return "tracing multi link(" + prog.name() + " on " + trampolines.size() + " functions"
                + (closed.get() ? ", closed" : "") + ")";
    }
}
