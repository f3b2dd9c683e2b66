#!/bin/bash
java -jar /usr/local/lib/sparkml-serving.jar
