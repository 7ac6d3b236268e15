// Package azure is the blob.Store on an Azure Blob Storage container (or Azurite in tests). Keys are
// blob names as they are; blobs are block blobs written in one request.
package azure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	azblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"esign/internal/blob"
)

// Timeouts. The SDK's defaults (30 s dial, 4 tries, delays growing to a minute) make an unreachable
// account look like a hang; these make it fail in about 5 s: three tries of at most 1.5 s to connect,
// 0.2 s and 0.4 s apart. Nothing bounds a whole try tighter than tryTimeout, because a try may carry a
// 30 MB blob over a slow link; callers that need a short answer (health checks) pass a deadline.
const (
	dialTimeout           = 1500 * time.Millisecond
	tlsHandshakeTimeout   = 3 * time.Second
	responseHeaderTimeout = 30 * time.Second // counted after the request body is sent
	tryTimeout            = 2 * time.Minute
	maxRetries            = 2
	retryDelay            = 200 * time.Millisecond
	maxRetryDelay         = 2 * time.Second
)

// Store is a blob.Store on one container. It is safe for concurrent use.
type Store struct {
	c *container.Client
}

var _ blob.Store = (*Store)(nil)

// New connects to the container named by containerName in the account of connectionString, creating
// the container if it does not exist.
func New(ctx context.Context, connectionString, containerName string) (*Store, error) {
	c, err := container.NewClientFromConnectionString(connectionString, containerName, &container.ClientOptions{
		ClientOptions: clientOptions(),
	})
	if err != nil {
		return nil, fmt.Errorf("azure blob container %s: %w", containerName, err)
	}
	_, err = c.Create(ctx, nil)
	var re *azcore.ResponseError
	switch {
	case err == nil, bloberror.HasCode(err, bloberror.ContainerAlreadyExists):
	case errors.As(err, &re) && re.StatusCode == http.StatusForbidden:
		// Credentials scoped to the container (a SAS) may not create it but may still use it.
		if _, perr := c.GetProperties(ctx, nil); perr != nil {
			return nil, fmt.Errorf("create azure blob container %s: %w", containerName, err)
		}
	default:
		return nil, fmt.Errorf("create azure blob container %s: %w", containerName, err)
	}
	return &Store{c: c}, nil
}

func clientOptions() azcore.ClientOptions {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	transport.TLSHandshakeTimeout = tlsHandshakeTimeout
	transport.ResponseHeaderTimeout = responseHeaderTimeout
	return azcore.ClientOptions{
		Transport: &http.Client{Transport: transport},
		Retry: policy.RetryOptions{
			MaxRetries:    maxRetries,
			TryTimeout:    tryTimeout,
			RetryDelay:    retryDelay,
			MaxRetryDelay: maxRetryDelay,
		},
	}
}

// Put uploads the blob in a single Put Blob request (UploadBuffer does so below 256 MB), which Azure
// applies whole: readers see the old blob until the new one is complete.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := blob.ValidKey(key); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	_, err := s.c.NewBlockBlobClient(key).UploadBuffer(ctx, data, &blockblob.UploadBufferOptions{})
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, classify(err))
	}
	return nil
}

// Get downloads the blob in one request. If the connection breaks mid-body the retry reader resumes with
// If-Match on the first response's ETag, so a blob replaced meanwhile fails instead of mixing versions.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := blob.ValidKey(key); err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	resp, err := s.c.NewBlobClient(key).DownloadStream(ctx, nil)
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("get blob %s: %w", key, blob.ErrNotFound)
		}
		return nil, fmt.Errorf("get blob %s: %w", key, classify(err))
	}
	body := resp.NewRetryReader(ctx, &azblob.RetryReaderOptions{MaxRetries: maxRetries})
	defer body.Close()
	var buf bytes.Buffer
	if resp.ContentLength != nil && *resp.ContentLength > 0 {
		buf.Grow(int(*resp.ContentLength))
	}
	if _, err := io.Copy(&buf, body); err != nil {
		return nil, fmt.Errorf("get blob %s: read: %w", key, classify(err))
	}
	if resp.ContentLength != nil && int64(buf.Len()) != *resp.ContentLength {
		return nil, fmt.Errorf("get blob %s: read %d bytes, response announced %d", key, buf.Len(), *resp.ContentLength)
	}
	return buf.Bytes(), nil
}

// classify marks errors that say the service could not be reached or failed on its side (no HTTP
// answer at all, or a 5xx after the retries) as blob.ErrUnavailable; 4xx answers are ours to fix.
func classify(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode < 500 {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", blob.ErrUnavailable, err)
}

// notFound is true for a missing blob. A missing container is an error of its own: it means the store
// is misconfigured or was deleted, not that one blob is absent.
func notFound(err error) bool {
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return true
	}
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound && re.ErrorCode == ""
}

// Delete removes the blob and its snapshots.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidKey(key); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	_, err := s.c.NewBlobClient(key).Delete(ctx, &azblob.DeleteOptions{
		DeleteSnapshots: new(azblob.DeleteSnapshotsOptionTypeInclude),
	})
	if err != nil && !notFound(err) {
		return fmt.Errorf("delete blob %s: %w", key, classify(err))
	}
	return nil
}

// List pages through a flat listing, which Azure filters by prefix on the server.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string) bool) error {
	opts := &container.ListBlobsFlatOptions{}
	if prefix != "" {
		opts.Prefix = &prefix
	}
	pager := s.c.NewListBlobsFlatPager(opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list blobs %q: %w", prefix, classify(err))
		}
		for _, item := range page.Segment.BlobItems {
			if item.Name == nil {
				continue
			}
			// Blobs put there by other means than this package are not ours to report.
			if blob.ValidKey(*item.Name) != nil {
				continue
			}
			if !fn(*item.Name) {
				return nil
			}
		}
	}
	return nil
}

// Ping reads the container's properties, which needs the network, the credentials and the container.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.c.GetProperties(ctx, nil); err != nil {
		return fmt.Errorf("ping azure blob container: %w", classify(err))
	}
	return nil
}

// DeleteMany deletes blobs with Blob Batch requests (up to 256 deletes in one round trip); missing
// blobs are not errors. It returns the keys it could not delete and an error saying why.
func (s *Store) DeleteMany(ctx context.Context, keys []string) (failed []string, err error) {
	const perBatch = 256
	var errs []error
	for len(keys) > 0 {
		chunk := keys[:min(perBatch, len(keys))]
		keys = keys[len(chunk):]
		bb, err := s.c.NewBatchBuilder()
		if err != nil {
			return append(failed, append(chunk, keys...)...), fmt.Errorf("delete blobs: %w", err)
		}
		for _, k := range chunk {
			if err := blob.ValidKey(k); err != nil {
				return append(failed, append(chunk, keys...)...), fmt.Errorf("delete blobs: %w", err)
			}
			if err := bb.Delete(k, &container.BatchDeleteOptions{DeleteOptions: azblob.DeleteOptions{DeleteSnapshots: new(azblob.DeleteSnapshotsOptionTypeInclude)}}); err != nil {
				return append(failed, append(chunk, keys...)...), fmt.Errorf("delete blobs: %w", err)
			}
		}
		resp, err := s.c.SubmitBatch(ctx, bb, nil)
		if err != nil {
			failed = append(failed, chunk...)
			errs = append(errs, fmt.Errorf("delete %d blobs: %w", len(chunk), classify(err)))
			continue
		}
		for _, item := range resp.Responses {
			if item.Error != nil && !notFound(item.Error) {
				name := ""
				if item.BlobName != nil {
					name = *item.BlobName
				}
				failed = append(failed, name)
				errs = append(errs, fmt.Errorf("delete blob %s: %w", name, item.Error))
			}
		}
	}
	return failed, errors.Join(errs...)
}
