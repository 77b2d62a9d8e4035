// Parameters of this project's Command documents, passed to their scripts as environment
// variables, never pasted into the script text. With plain `{{ name }}` substitution SSM
// writes the value into the script before the shell reads it, so a value the pattern did not
// stop (or a pattern someone loosens) runs as root. With `"interpolationType": "ENV_VAR"` the
// agent sets `SSM_<name>` instead ("Data elements and parameters", AWS Systems Manager User
// Guide); `allowedPattern` stays as the second wall. Agents older than 3.3.2746.0 do not set
// the variable: the scripts then stop with a message rather than fall back to substitution.

/** The first SSM Agent version that passes parameters as environment variables. */
export const MIN_AGENT_FOR_ENV_VAR_PARAMETERS = "3.3.2746.0";

/** A String parameter the agent passes as the environment variable `SSM_<name>`. */
export function envVarParameter(description: string, allowedPattern: string) {
    return { type: "String" as const, description, allowedPattern, interpolationType: "ENV_VAR" as const };
}

/** The environment variable the agent sets for a parameter. */
export function parameterVariable(name: string): string {
    return `SSM_${name}`;
}

/**
 * The POSIX sh line that copies a parameter into `variable`, or stops the script (set -u
 * semantics, exit 1) when the agent did not set it.
 */
export function readParameter(variable: string, parameter: string): string {
    const env = parameterVariable(parameter);
    return `${variable}="\${${env}?the parameter ${parameter} arrives as the environment variable ${env}, which SSM Agent ${MIN_AGENT_FOR_ENV_VAR_PARAMETERS} or later sets: update the agent}"`;
}

/** The PowerShell line that copies a parameter into `$variable`. */
export function readParameterPowerShell(variable: string, parameter: string): string {
    return `$${variable} = $env:${parameterVariable(parameter)}`;
}
