package io.introducer.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.RelayRtt;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser: Debian's headless Chromium driven by its chromedriver (never a downloaded one).
 * Logs in through the form, watches two raw-UDP peers connect, and sees the session appear and change live.
 * Without chromium and chromium-driver the test is skipped, except in CI (CI=true), where it fails.
 */
class DashboardBrowserTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path SCREENSHOT = Path.of("target", "dashboard-screenshot.png");

  private DashboardFixture node;
  private WebDriver driver;
  private Path profile;

  @BeforeEach
  void start() throws Exception {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
      String why = "needs " + CHROMIUM + " and " + CHROMEDRIVER + " (apt-get install chromium chromium-driver)";
      if ("true".equals(System.getenv("CI"))) {
        fail("CI must run the browser test: it " + why);
      }
      Assumptions.abort("browser test skipped: it " + why);
    }
    node = DashboardFixture.start();
    profile = Files.createTempDirectory("introducer-chromium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--no-default-browser-check", "--user-data-dir=" + profile, "--window-size=1600,1400");
    // An explicit driver executable: Selenium Manager is never asked to find or download one.
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
    driver = new ChromeDriver(service, options);
  }

  @AfterEach
  void stop() throws Exception {
    if (driver != null) {
      driver.quit();
    }
    if (node != null) {
      node.close();
    }
    if (profile != null) {
      try (var files = Files.walk(profile)) {
        files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
  }

  private WebDriverWait waitUpTo(int seconds) {
    return new WebDriverWait(driver, Duration.ofSeconds(seconds));
  }

  private String text(String css) {
    return driver.findElement(By.cssSelector(css)).getText();
  }

  /** The cell of class {@code cssClass} in the peer table's row of {@code peer}. */
  private WebElement peerCell(String peer, String cssClass) {
    return driver.findElements(By.cssSelector("#peers tbody tr")).stream()
        .filter(tr -> tr.findElements(By.tagName("td")).size() > 1
            && tr.findElements(By.tagName("td")).get(1).getText().equals(peer))
        .findFirst().orElseThrow(() -> new AssertionError("no peer row for " + peer))
        .findElement(By.cssSelector("td." + cssClass));
  }

  @Test
  void aSessionAppearsLiveWithItsPathAfterLoggingIn() throws Exception {
    driver.get("http://127.0.0.1:" + node.httpPort + "/");
    WebDriverWait wait = waitUpTo(15);
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-form")));

    // A wrong password is refused on the form.
    driver.findElement(By.id("login-username")).sendKeys(DashboardFixture.USER);
    driver.findElement(By.id("login-password")).sendKeys("wrong-password");
    driver.findElement(By.id("login-submit")).click();
    wait.until(ExpectedConditions.textToBe(By.id("login-error"), "invalid credentials"));
    assertThat(driver.findElement(By.id("app")).isDisplayed()).isFalse();

    driver.findElement(By.id("login-password")).clear();
    driver.findElement(By.id("login-password")).sendKeys(DashboardFixture.PASSWORD);
    driver.findElement(By.id("login-submit")).click();
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("app")));
    wait.until(ExpectedConditions.textToBe(By.id("live-status"), "live"));
    assertThat(text("#who")).isEqualTo(DashboardFixture.USER);
    assertThat(text("#sessions tbody")).isEqualTo("No sessions match.");
    // Marks this document: a reload would lose the mark.
    ((JavascriptExecutor) driver).executeScript("window.introducerTestMark = 'same-document';");

    try (UdpPeer alice = node.peer("alice"); UdpPeer bob = node.peer("bob")) {
      // Alice measured two relays (bob none): the peer table shows her fastest, and all of them in its tooltip.
      alice.register(new RelayRtt(new InetSocketAddress("10.9.0.2", 3479), 12_500),
          new RelayRtt(new InetSocketAddress("10.9.0.1", 3479), 850));
      bob.register();
      String session = alice.connect("bob");
      bob.acceptIntroduce();
      By row = By.cssSelector("#sessions tbody tr[data-id='" + session + "']");
      wait.until(ExpectedConditions.presenceOfElementLocated(row));
      WebElement tr = driver.findElement(row);
      assertThat(tr.findElement(By.cssSelector("td.initiator")).getText()).isEqualTo("alice");
      assertThat(tr.findElement(By.cssSelector("td.responder")).getText()).isEqualTo("bob");
      assertThat(tr.getAttribute("data-state")).isEqualTo("pending");

      alice.report(session, Outcome.CONNECTED_DIRECT, 37, bob.address(), null);
      wait.until(ExpectedConditions.attributeToBe(row, "data-state", "connected-direct"));
      tr = driver.findElement(row);
      assertThat(tr.findElement(By.cssSelector("td.path")).getText()).isEqualTo("direct");
      assertThat(tr.findElement(By.cssSelector("td.ttc")).getText()).isEqualTo("37 ms");
      assertThat(tr.findElement(By.cssSelector("td.state-cell")).getText()).isEqualTo("connected-direct");

      // Counters, charts and the peer table follow the pushed stats.
      wait.until(ExpectedConditions.textToBe(By.id("count-connected-direct"), "1"));
      wait.until(ExpectedConditions.textToBe(By.id("count-peers"), "2"));
      wait.until(d -> text("#peers tbody").contains("alice") && text("#peers tbody").contains("bob"));
      WebElement aliceRelay = peerCell("alice", "relay-rtt");
      assertThat(aliceRelay.getText()).isEqualTo("10.9.0.1:3479 · 0.85 ms+1");
      assertThat(aliceRelay.getAttribute("title")).isEqualTo("10.9.0.1:3479  0.85 ms\n10.9.0.2:3479  13 ms");
      assertThat(peerCell("bob", "relay-rtt").getText()).isEqualTo("—");
      assertThat(text("#chart-success")).contains("100% connected of 1").contains("p50 37 ms");
      assertThat(text("#chart-paths")).contains("direct 1");
      assertThat(text("#relays tbody")).isEqualTo("No relay role in this cluster yet.");
      assertThat(text("#nodes tbody")).contains("test-node").contains("introducer, dashboard").contains("ready");
    }
    assertThat(((JavascriptExecutor) driver).executeScript("return window.introducerTestMark;"))
        .as("the page was updated without a reload").isEqualTo("same-document");
    List<WebElement> rows = driver.findElements(By.cssSelector("#sessions tbody tr"));
    assertThat(rows).hasSize(1);

    Files.createDirectories(SCREENSHOT.getParent());
    Path shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
    Files.copy(shot, SCREENSHOT, StandardCopyOption.REPLACE_EXISTING);
    assertThat(Files.size(SCREENSHOT)).isGreaterThan(10_000);
  }
}
