package dev.gtramp.stress.gate;

import org.junit.jupiter.api.Test;
import org.openjdk.jcstress.annotations.Description;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gate's annotations on every jcstress test of the module agree with what the classes say: each
 * {@code Test} declares its racy outcome and each {@code Broken} twin its documented one, and the
 * class's javadoc names it (the gate, at run time, can check only the {@code @Description}).
 */
class JcstressAnnotationsTest {
    private static final Path SOURCES = Path.of("src/main/java");
    private static final Pattern JAVADOC = Pattern.compile("/\\*\\*((?:(?!\\*/).)*)\\*/\\s*(?:@[^\\n]*\\n\\s*|\\+[^\\n]*\\n\\s*)*public class",
            Pattern.DOTALL);

    record Source(String name, Class<?> cls, String javadoc) {
    }

    static List<Source> jcstressTests() throws IOException {
        List<Source> tests = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                String src = Files.readString(f);
                if (!src.contains("\n@JCStressTest")) {
                    continue;
                }
                String name = SOURCES.relativize(f).toString().replace('/', '.').replaceAll("\\.java$", "");
                Matcher m = JAVADOC.matcher(src);
                String javadoc = m.find() ? m.group(1).replaceAll("(?m)^\\s*\\* ?", " ").replaceAll("\\s+", " ") : "";
                try {
                    tests.add(new Source(name, Class.forName(name, false, JcstressAnnotationsTest.class.getClassLoader()),
                            javadoc));
                } catch (ClassNotFoundException e) {
                    throw new AssertionError(name, e);
                }
            }
        }
        return tests;
    }

    @Test
    void everyTestAndTwinIsAnnotatedAndItsJavadocNamesTheOutcome() throws IOException {
        List<Source> tests = jcstressTests();
        assertTrue(tests.size() >= 52, "found only " + tests.size() + " jcstress tests under " + SOURCES.toAbsolutePath());
        List<String> problems = new ArrayList<>();
        for (Source t : tests) {
            RacyOutcome racy = t.cls.getDeclaredAnnotation(RacyOutcome.class);
            CaughtBy caughtBy = t.cls.getDeclaredAnnotation(CaughtBy.class);
            if (t.javadoc.isEmpty()) {
                problems.add(t.name + ": no class javadoc found");
            }
            if (t.name.endsWith("Test")) {
                if (racy == null) {
                    problems.add(t.name + ": no @RacyOutcome");
                } else if (!t.javadoc.contains("{@code " + JcstressGate.display(racy.value()) + "}")) {
                    problems.add(t.name + ": javadoc does not name its racy outcome {@code " + racy.value() + "}");
                }
            } else if (t.name.endsWith("Broken")) {
                if (caughtBy == null) {
                    problems.add(t.name + ": no @CaughtBy");
                    continue;
                }
                Description d = t.cls.getDeclaredAnnotation(Description.class);
                for (String id : caughtBy.value()) {
                    String shown = JcstressGate.display(id);
                    if (!t.javadoc.contains("{@code " + shown + "}")) {
                        problems.add(t.name + ": javadoc does not name its documented outcome {@code " + shown + "}");
                    }
                    if (d == null || !JcstressGate.mentions(d.value(), shown)) {
                        problems.add(t.name + ": @Description does not name its documented outcome " + shown);
                    }
                }
            } else {
                problems.add(t.name + ": neither a Test nor a Broken twin");
            }
        }
        assertEquals(List.of(), problems);
    }
}
