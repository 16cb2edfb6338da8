package dev.gtramp.kernel;

import dev.gtramp.kernel.btf.ArgClass;

/**
 * The body a function gets unless the kernel has a real one for it or an embedder sets one: it
 * returns a deterministic mix of the function's address and arguments, truncated to the return
 * type's size ({@code 0} for {@code void}), so that a test can tell a body's result from a
 * program's override. It allocates nothing.
 */
final class DefaultBody implements FunctionBody {
    static final DefaultBody INSTANCE = new DefaultBody();

    private DefaultBody() {
    }

    @Override
    public long run(Frame frame) {
        KernelFunction fn = frame.function();
        if (fn.prototype().returnClass() == ArgClass.VOID) {
            return 0;
        }
        long h = fn.ip() * 0x9E3779B97F4A7C15L;
        for (int i = 0, n = frame.argCount(); i < n; i++) {
            h = (h ^ frame.arg(i)) * 0x9E3779B97F4A7C15L;
        }
        return truncate(h >>> 17, fn.prototype().returnSize());
    }

    /** Truncates to {@code size} bytes and sign-extends, as a C return value in rax would read. */
    static long truncate(long v, int size) {
        return switch (size) {
            case 1 -> (byte) v;
            case 2 -> (short) v;
            case 4 -> (int) v;
            default -> v;
        };
    }

    @Override
    public String toString() {
        return "default body";
    }
}
