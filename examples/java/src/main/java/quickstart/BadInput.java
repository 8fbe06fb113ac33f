// A bad input from Java: the library's error arrives with its full message.
package quickstart;

import invalid.cdk8s_stateful.DatabaseEngine;
import invalid.cdk8s_stateful.StatefulDatabase;
import invalid.cdk8s_stateful.StatefulDatabaseProps;
import org.cdk8s.App;
import org.cdk8s.Chart;

public final class BadInput {
  public static void main(String[] args) {
    try {
      new StatefulDatabase(new Chart(new App(), "orders"), "orders",
          StatefulDatabaseProps.builder().engine(DatabaseEngine.postgresql()).replicas(-1).build());
      System.out.println("no error");
    } catch (RuntimeException e) {
      System.err.println("caught " + e.getClass().getName());
      System.out.println("StatefulConfigError: " + e.getMessage());
    }
  }
}
