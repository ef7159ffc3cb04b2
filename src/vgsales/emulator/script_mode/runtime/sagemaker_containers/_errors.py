"""Errors, as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_errors.py defines them: ClientError
separates the user's errors from the framework's; ExecuteUserScriptError's text is what a failed training job's
/opt/ml/output/failure holds."""

from __future__ import annotations

import textwrap


class ClientError(Exception):
    """Error class used to separate framework and user errors."""


class _CalledProcessError(ClientError):
    """A process run by check_error returned a non-zero exit status. Attributes: cmd, return_code, output."""

    def __init__(self, cmd, return_code=None, output=None):
        self.return_code = return_code
        self.cmd = cmd
        self.output = output
        super().__init__()

    def __str__(self):
        if self.output:
            error_msg = "\n%s" % (self.output.decode("latin1") if isinstance(self.output, bytes) else self.output)
        else:
            error_msg = ""

        message = '%s:\nCommand "%s"%s' % (type(self).__name__, self.cmd, error_msg)
        return message.strip()


class InstallModuleError(_CalledProcessError):
    """Error class indicating a module failed to install."""


class ImportModuleError(ClientError):
    """Error class indicating a module failed to import."""


class ExecuteUserScriptError(_CalledProcessError):
    """Error class indicating a user script failed to execute."""


class ChannelDoesNotExistException(Exception):
    """Error class indicating a channel does not exist."""

    def __init__(self, channel_name):
        super().__init__("Channel %s is not a valid channel" % channel_name)


class UnsupportedFormatError(Exception):
    """Error class indicating a content type is not supported by the current framework."""

    def __init__(self, content_type, **kwargs):
        self.message = textwrap.dedent(
            """Content type %s is not supported by this framework.

            Please implement input_fn to to deserialize the request data or an output_fn to
            serialize the response. For more information, see the SageMaker Python SDK README."""
            % content_type
        )
        super().__init__(self.message, **kwargs)
