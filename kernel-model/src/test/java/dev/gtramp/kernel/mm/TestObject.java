package dev.gtramp.kernel.mm;

/** A kernel object for the tests: one reference behind the guard, dropped by poisoning. */
final class TestObject extends KernelObject {
    private Object payload = "payload";

    TestObject(String type, long size) {
        super(type, size);
    }

    /** A guarded read. */
    Object payload() {
        guard();
        return payload;
    }

    /** A read that skips the guard, as a buggy path would. */
    Object payloadUnguarded() {
        return payload;
    }

    @Override
    protected void poison() {
        payload = null;
    }
}
