package com.acme;

public class Beans {
    private static final String FALLBACK_PORT = "8080";

    public JettyServletWebServerFactory webServerFactory() {
        final String listenerPort =
            (System.getenv("SAGEMAKER_BIND_TO_PORT") != null) ? System.getenv("SAGEMAKER_BIND_TO_PORT")
                : FALLBACK_PORT;
        return new JettyServletWebServerFactory(Integer.parseInt(listenerPort));
    }
}
