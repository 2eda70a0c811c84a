package io.introducer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SDK example in README.md must compile against the SDK as built. */
class ReadmeExampleTest {

  @Test
  void readmeSdkExampleCompiles(@TempDir Path out) throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    Matcher m = Pattern.compile("readme-example:start.*?```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertThat(m.find()).as("README.md has a java block after the readme-example:start marker").isTrue();
    String source = m.group(1);

    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    StringWriter diagnostics = new StringWriter();
    try (StandardJavaFileManager files = compiler.getStandardFileManager(null, null, null)) {
      JavaFileObject unit = new SimpleJavaFileObject(java.net.URI.create("string:///Example.java"),
          JavaFileObject.Kind.SOURCE) {
        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
          return source;
        }
      };
      String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
      boolean ok = compiler.getTask(diagnostics, files, null,
          List.of("-classpath", classpath, "-d", out.toString(), "-Xlint:none"), null, List.of(unit)).call();
      assertThat(ok).as("README example compiles:\n" + diagnostics).isTrue();
    }
    assertThat(out.resolve("Example.class")).exists();
  }
}
